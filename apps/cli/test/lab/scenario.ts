import { readFileSync, rmSync } from "node:fs";
import { type Client, createClient } from "../../../../packages/sdk/src/index.js";
import {
  createNatLab,
  LAB_SERVER_PORT,
  type LabHost,
  type LabRouter,
  type NatKind,
  type NatLab,
  type Spawned,
} from "./nat-lab.js";

/**
 * The NAT lab's matrix: one server, one device of each kind of NAT (two of the kinds
 * that need a partner of their own kind), two devices behind one router, one public
 * device; all in one network. Every pair must ping both ways, and each side's reported
 * path and reason must be the expected ones.
 */

export type Kind = NatKind | "public";

export interface LabDevice {
  name: string;
  kind: Kind;
  host: LabHost;
  router?: LabRouter;
  configDir: string;
  prefix: string;
  client: Client;
  daemon?: Spawned;
  /** its address in the virtual network */
  address?: string;
  deviceId?: string;
}

export interface Expectation {
  path: "direct" | "relay";
  reason: string;
}

/** What `a` should report for its pair with `b`. */
export function expected(a: LabDevice, b: LabDevice): Expectation {
  if (a.router && a.router === b.router) return { path: "direct", reason: "direct: same LAN" };
  if (a.kind === "udp-blocked") return { path: "relay", reason: "relay: UDP blocked here" };
  if (b.kind === "udp-blocked") return { path: "relay", reason: "relay: UDP blocked at peer" };
  if (a.kind === "symmetric" && b.kind === "symmetric")
    return { path: "relay", reason: "relay: both sides symmetric NAT" };
  if (a.kind === "symmetric" && b.kind === "port-restricted")
    return { path: "relay", reason: "relay: symmetric NAT here" };
  if (a.kind === "port-restricted" && b.kind === "symmetric")
    return { path: "relay", reason: "relay: symmetric NAT at peer" };
  if (b.kind === "public") return { path: "direct", reason: "direct: peer has a public address" };
  if (a.kind === "public") return { path: "direct", reason: "direct: this device has a public address" };
  return { path: "direct", reason: "direct: hole punched" };
}

const PASSWORD = "correct horse battery";

export interface PathReport {
  nat: string;
  peers: {
    device_id: string;
    name: string;
    path: string;
    reason: string;
    endpoint: string | null;
    local_candidate: string;
    relay_instance: string | null;
  }[];
}

/** The layout: name → kind, and which router each stands behind (same letter: same router). */
export const MATRIX: { name: string; kind: Kind; router?: string }[] = [
  { name: "pub", kind: "public" },
  { name: "cone", kind: "full-cone", router: "rc" },
  { name: "pr1", kind: "port-restricted", router: "rp1" },
  { name: "pr2", kind: "port-restricted", router: "rp2" },
  { name: "sym1", kind: "symmetric", router: "rs1" },
  { name: "sym2", kind: "symmetric", router: "rs2" },
  { name: "blk", kind: "udp-blocked", router: "rb" },
  { name: "lan1", kind: "port-restricted", router: "rl" },
  { name: "lan2", kind: "port-restricted", router: "rl" },
];

export interface LabRun {
  lab: NatLab;
  url: string;
  server: Spawned;
  owner: Client;
  networkId: string;
  devices: LabDevice[];
  /** `warren up` on every device (in parallel) */
  upAll(): Promise<void>;
  paths(d: LabDevice): PathReport | undefined;
  stop(): Promise<void>;
}

/** Builds the lab, starts the server, makes the users and devices (not yet up). */
export async function buildLab(
  layout = MATRIX,
  log: (line: string) => void = () => {},
  id?: string,
): Promise<LabRun> {
  const lab = createNatLab(id);
  try {
    return await build(lab, layout, log);
  } catch (err) {
    await lab.destroy();
    throw err;
  }
}

async function build(lab: NatLab, layout: typeof MATRIX, log: (line: string) => void): Promise<LabRun> {
  await lab.setup();
  const serverHost = await lab.addPublic("srv", lab.serverIp);
  const url = `http://${lab.serverIp}:${LAB_SERVER_PORT}`;
  const server = lab.spawnWarren(serverHost, ["server"], {
    PORT: String(LAB_SERVER_PORT),
    HOST: "0.0.0.0",
    DATA_DIR: `/tmp/warren-natlab-${lab.id}/server`,
    LOG_LEVEL: "warn",
    STUN_PORT: "3478",
    STUN_ALT_PORT: "3479",
    UPGRADE_RATE_LIMIT: "1000",
    MESSAGE_RATE_LIMIT: "200",
    MESSAGE_BURST_LIMIT: "400",
    RELAY_RATE_LIMIT: "64MiB",
  });
  const started = Date.now();
  for (;;) {
    const ok = await fetch(`${url}/ready`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (Date.now() - started > 60_000) throw new Error(`server did not start:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  log(`server up at ${url}`);
  const owner = createClient({ baseUrl: url });
  await owner.auth.register({ username: `owner-${lab.id}`, password: PASSWORD });
  const tenant = (await owner.tenants.create({ name: `natlab-${lab.id}` })).id;
  const networkId = (await owner.networks.create(tenant, { name: "lab", cidr: "10.99.0.0/24" })).id;

  const routers = new Map<string, LabRouter>();
  const devices: LabDevice[] = [];
  let i = 0;
  for (const spec of layout) {
    let host: LabHost;
    let router: LabRouter | undefined;
    if (spec.kind === "public") host = await lab.addPublic(spec.name);
    else {
      const key = spec.router ?? `r-${spec.name}`;
      router = routers.get(key);
      if (!router) {
        router = await lab.addRouter(key, spec.kind);
        routers.set(key, router);
      }
      host = await lab.addBehind(router, spec.name);
    }
    devices.push({
      name: spec.name,
      kind: spec.kind,
      host,
      router,
      configDir: `/tmp/warren-natlab-${lab.id}/${spec.name}`,
      prefix: `wt${(i++).toString(36)}`,
      client: createClient({ baseUrl: url }),
    });
  }
  log(`namespaces ready: ${devices.length} devices, ${routers.size} routers`);

  const cli = async (d: LabDevice, args: string[], input?: string) => {
    const r = await lab.warren(d.host, args, { WARREN_CONFIG_DIR: d.configDir }, input);
    if (r.code !== 0) throw new Error(`${d.name}: warren ${args.join(" ")} exited ${r.code}:\n${r.output}`);
    return r.output;
  };
  // Two at a time: each CLI run is a Node start.
  const queue = [...devices];
  const worker = async () => {
    for (let d = queue.shift(); d; d = queue.shift()) {
      const user = `${d.name}-${lab.id}`;
      await d.client.auth.register({ username: user, password: PASSWORD });
      await cli(d, ["login", "--server", url, "--username", user, "--password-stdin"], `${PASSWORD}\n`);
      const invite = await owner.invites.create(tenant, { network_id: networkId, max_uses: 1 });
      await cli(d, ["join", invite.code]);
    }
  };
  await Promise.all([worker(), worker()]);
  log("users logged in and joined");

  const run: LabRun = {
    lab,
    url,
    server,
    owner,
    networkId,
    devices,
    async upAll() {
      for (const d of devices) {
        d.daemon = lab.spawnWarren(d.host, ["up", networkId, "--prefix", d.prefix], {
          WARREN_CONFIG_DIR: d.configDir,
        });
      }
      await Promise.all(devices.map((d) => d.daemon?.waitFor(/ up at /, 60_000)));
      const { peers } = await owner.networks.peers(networkId);
      for (const d of devices) {
        const me = await d.client.auth.me();
        const peer = peers.find((p) => p.user_id === me.id);
        d.address = peer?.address;
        d.deviceId = peer?.device_id;
      }
    },
    paths(d) {
      try {
        const file = JSON.parse(readFileSync(`${d.configDir}/paths.json`, "utf8")) as {
          networks: Record<string, PathReport>;
        };
        return file.networks[networkId];
      } catch {
        return undefined;
      }
    },
    async stop() {
      await Promise.allSettled(devices.map((d) => d.daemon?.stop()));
      await lab.destroy();
      rmSync(`/tmp/warren-natlab-${lab.id}`, { recursive: true, force: true });
    },
  };
  return run;
}

/** One ping from a device to an address (one second at most). */
export async function pingOnce(from: LabDevice, address: string): Promise<boolean> {
  const r = await from.host.exec("ping", ["-c", "1", "-W", "1", address], { allowFailure: true });
  return r.code === 0;
}

/** Polls until `probe` holds or the time is up; the time it took, or undefined. */
export async function within(
  probe: () => Promise<boolean>,
  ms: number,
  stepMs = 200,
): Promise<number | undefined> {
  const start = Date.now();
  for (;;) {
    if (await probe()) return Date.now() - start;
    if (Date.now() - start > ms) return undefined;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export interface PairResult {
  a: string;
  b: string;
  ping_ab: boolean;
  ping_ba: boolean;
  expected: Expectation;
  got_a: { path: string; reason: string } | undefined;
  got_b: { path: string; reason: string } | undefined;
  ok: boolean;
}

/** Every pair: pings both ways, then each side's path and reason against the expectation. */
export async function checkPairs(run: LabRun, settleMs = 20_000, pingMs = 10_000): Promise<PairResult[]> {
  const pairs: [LabDevice, LabDevice][] = [];
  for (let i = 0; i < run.devices.length; i++)
    for (let j = i + 1; j < run.devices.length; j++) pairs.push([run.devices[i], run.devices[j]] as never);
  const view = (a: LabDevice, b: LabDevice) => {
    const p = run.paths(a)?.peers.find((x) => x.device_id === b.deviceId);
    return p && { path: p.path, reason: p.reason };
  };
  const matches = (a: LabDevice, b: LabDevice) => {
    const want = expected(a, b);
    const got = view(a, b);
    return got?.path === want.path && got.reason === want.reason;
  };
  const results: PairResult[] = [];
  const queue = [...pairs];
  const worker = async () => {
    for (let pair = queue.shift(); pair; pair = queue.shift()) {
      const [a, b] = pair;
      const ab = (await within(() => pingOnce(a, b.address ?? ""), pingMs)) !== undefined;
      const ba = (await within(() => pingOnce(b, a.address ?? ""), pingMs)) !== undefined;
      await within(async () => matches(a, b) && matches(b, a), settleMs, 250);
      const ok = ab && ba && matches(a, b) && matches(b, a);
      results.push({
        a: a.name,
        b: b.name,
        ping_ab: ab,
        ping_ba: ba,
        expected: expected(a, b),
        got_a: view(a, b),
        got_b: view(b, a),
        ok,
      });
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return results;
}
