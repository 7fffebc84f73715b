import { spawn } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { LabHost } from "../../apps/cli/test/lab/nat-lab.js";
import { buildLab, type LabDevice, type LabRun, pingOnce, within } from "../../apps/cli/test/lab/scenario.js";

/**
 * `npm run bench -- nat` (root; wireguard-go, nftables, iperf3): the NAT lab's figures.
 * Two port-restricted devices (a direct pair, hole punched) and two behind symmetric
 * NATs (a relayed pair), plus a WireGuard tunnel configured by hand with `wg` between
 * the two port-restricted namespaces through the same routers, as the baseline.
 */

const RESULTS = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "results");
const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);

const LAYOUT = [
  { name: "pr1", kind: "port-restricted" as const, router: "rp1" },
  { name: "pr2", kind: "port-restricted" as const, router: "rp2" },
  { name: "sym1", kind: "symmetric" as const, router: "rs1" },
  { name: "sym2", kind: "symmetric" as const, router: "rs2" },
];

async function run(h: LabHost, cmd: string, args: string[]) {
  return h.exec(cmd, args, { allowFailure: true });
}

/** iperf3 from `a` to `b` at `address` for `seconds`: received bits per second. */
async function iperf(a: LabDevice, b: LabDevice, address: string, seconds: number): Promise<number> {
  const server = spawn("ip", ["netns", "exec", b.host.ns, "iperf3", "-s", "-1", "-p", "5201"], {
    stdio: "ignore",
  });
  await new Promise((r) => setTimeout(r, 500));
  try {
    const out = await a.host.exec(
      "timeout",
      [String(seconds + 15), "iperf3", "-c", address, "-p", "5201", "-t", String(seconds), "-J"],
      {
        allowFailure: true,
      },
    );
    const json = JSON.parse(out.stdout || "{}") as { end?: { sum_received?: { bits_per_second?: number } } };
    return json.end?.sum_received?.bits_per_second ?? 0;
  } finally {
    server.kill("SIGKILL");
  }
}

/** Minimum and average ping round trip in ms over `count` pings 10 ms apart. */
async function rtt(a: LabDevice, address: string, count = 200): Promise<{ min: number; avg: number }> {
  const out = await run(a.host, "ping", ["-c", String(count), "-i", "0.01", "-q", address]);
  const m = /= ([\d.]+)\/([\d.]+)\//.exec(out.stdout);
  return m ? { min: Number(m[1]), avg: Number(m[2]) } : { min: Number.NaN, avg: Number.NaN };
}

const handName = (d: LabDevice) => `wgb${process.pid % 10_000}${d.name}`.slice(0, 15);

/** A WireGuard tunnel made by hand with wg (wireguard-go) between two devices behind their routers. */
async function handTunnel(a: LabDevice, b: LabDevice): Promise<{ a: string; b: string }> {
  const keys = async (h: LabHost) => {
    const priv = (await run(h, "wg", ["genkey"])).stdout.trim();
    const child = spawn("ip", ["netns", "exec", h.ns, "wg", "pubkey"], { stdio: ["pipe", "pipe", "ignore"] });
    let pub = "";
    child.stdout.on("data", (d) => {
      pub += d;
    });
    child.stdin.end(`${priv}\n`);
    await new Promise((r) => child.once("exit", r));
    return { priv, pub: pub.trim() };
  };
  const [ka, kb] = [await keys(a.host), await keys(b.host)];
  const port = 51900;
  const setUp = async (
    d: LabDevice,
    k: { priv: string },
    peer: { pub: string },
    peerWan: string,
    addr: string,
  ) => {
    // wireguard-go's control socket lives in /var/run/wireguard, shared by every
    // namespace: each interface needs a name of its own.
    const name = handName(d);
    await run(d.host, "wireguard-go", [name]);
    writeFileSync(`/tmp/wgbench-${d.name}.key`, `${k.priv}\n`, { mode: 0o600 });
    await run(d.host, "wg", [
      "set",
      name,
      "listen-port",
      String(port),
      "private-key",
      `/tmp/wgbench-${d.name}.key`,
      "peer",
      peer.pub,
      "allowed-ips",
      "10.98.0.0/24",
      "endpoint",
      `${peerWan}:${port}`,
      "persistent-keepalive",
      "1",
    ]);
    await run(d.host, "ip", ["addr", "add", `${addr}/24`, "dev", name]);
    await run(d.host, "ip", ["link", "set", name, "mtu", "1420", "up"]);
  };
  await setUp(a, ka, kb, b.router?.wan ?? "", "10.98.0.1");
  await setUp(b, kb, ka, a.router?.wan ?? "", "10.98.0.2");
  const ok = await within(() => pingOnce(a, "10.98.0.2"), 20_000, 300);
  if (ok === undefined) throw new Error("the hand-made WireGuard tunnel does not carry pings");
  return { a: "10.98.0.1", b: "10.98.0.2" };
}

const cpuSeconds = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

async function relayBytes(run: LabRun): Promise<number> {
  const text = await fetch(`${run.url}/metrics`).then((r) => r.text());
  const m = /^warren_relay_bytes_total (\S+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}

export async function runNat(args: string[]): Promise<void> {
  const seconds = args.includes("--quick") ? 3 : 8;
  const write = !args.includes("--no-write");
  const lab = await buildLab(LAYOUT, log);
  const dev = (name: string) => lab.devices.find((d) => d.name === name) as LabDevice;
  const [pr1, pr2, sym1, sym2] = [dev("pr1"), dev("pr2"), dev("sym1"), dev("sym2")];
  const pathOf = (a: LabDevice, b: LabDevice) => lab.paths(a)?.peers.find((p) => p.device_id === b.deviceId);
  const figures: Record<string, number | string> = {};
  try {
    // Join to first ping: pr1 and sym1 are up; pr2 (then sym2) runs `warren up`, and the
    // clock runs until the first ping from its partner comes back.
    const upOne = async (d: LabDevice) => {
      d.daemon = lab.lab.spawnWarren(d.host, ["up", lab.networkId, "--prefix", d.prefix], {
        WARREN_CONFIG_DIR: d.configDir,
      });
      await d.daemon.waitFor(/ up at /, 60_000);
    };
    await Promise.all([upOne(pr1), upOne(sym1)]);
    const addressOf = async (d: LabDevice) => {
      const me = await d.client.auth.me();
      const { peers } = await lab.owner.networks.peers(lab.networkId);
      const p = peers.find((x) => x.user_id === me.id);
      d.address = p?.address;
      d.deviceId = p?.device_id;
      return p?.address;
    };
    await addressOf(pr1);
    await addressOf(sym1);
    for (const [a, b, name] of [
      [pr1, pr2, "join_to_first_ping_direct_pair_ms"],
      [sym1, sym2, "join_to_first_ping_relayed_pair_ms"],
    ] as const) {
      const t0 = Date.now();
      const up = upOne(b);
      await within(async () => (await addressOf(b)) !== undefined, 30_000, 50);
      await within(() => pingOnce(a, b.address ?? ""), 30_000, 20);
      figures[name] = Date.now() - t0;
      await up;
      log(`${name}: ${figures[name]} ms`);
      if (a === pr1) {
        // From the same start: until both sides of the port-restricted pair report direct.
        const direct = await within(
          async () => pathOf(pr1, pr2)?.path === "direct" && pathOf(pr2, pr1)?.path === "direct",
          20_000,
          50,
        );
        figures.join_to_direct_pr_pair_ms = direct === undefined ? "never" : Date.now() - t0;
      }
    }
    await within(async () => pathOf(sym1, sym2)?.reason === "relay: both sides symmetric NAT", 20_000);
    figures.relayed_pair_reason = pathOf(sym1, sym2)?.reason ?? "";

    // Failover: UDP between the two port-restricted routers stops; pings must come back
    // (through the relay). Then UDP comes back: time until the pair is direct again.
    const r1 = pr1.router;
    const r2 = pr2.router;
    if (!r1 || !r2) throw new Error("routers expected");
    await lab.lab.blockUdp(r1, r2.wan);
    const cut = Date.now();
    await new Promise((r) => setTimeout(r, 300));
    await within(() => pingOnce(pr1, pr2.address ?? ""), 30_000, 50);
    figures.failover_ms = Date.now() - cut;
    log(`failover: ${figures.failover_ms} ms`);
    await within(async () => pathOf(pr1, pr2)?.path === "relay", 10_000);
    await new Promise((r) => setTimeout(r, 12_000));
    await lab.lab.unblockUdp(r1);
    const opened = Date.now();
    const back = await within(
      async () => pathOf(pr1, pr2)?.path === "direct" && pathOf(pr2, pr1)?.path === "direct",
      40_000,
      50,
    );
    figures.relay_to_direct_ms = back === undefined ? "never" : Date.now() - opened;
    log(`relay → direct after UDP opened: ${figures.relay_to_direct_ms} ms`);

    // Throughput and latency: the hand-made tunnel, warren direct, warren relayed.
    const handAddr = await handTunnel(pr1, pr2);
    const hand = await rtt(pr1, handAddr.b);
    const direct = await rtt(pr1, pr2.address ?? "");
    const relayed = await rtt(sym1, sym2.address ?? "");
    figures.rtt_hand_min_avg_ms = `${hand.min} / ${hand.avg}`;
    figures.rtt_direct_min_avg_ms = `${direct.min} / ${direct.avg}`;
    figures.rtt_relayed_min_avg_ms = `${relayed.min} / ${relayed.avg}`;
    figures.rtt_added_direct_min_ms = Number((direct.min - hand.min).toFixed(3));
    figures.rtt_added_direct_avg_ms = Number((direct.avg - hand.avg).toFixed(3));
    const bps = async (a: LabDevice, b: LabDevice, address: string) => {
      const all = [];
      for (let i = 0; i < 2; i++) all.push(await iperf(a, b, address, seconds));
      return Math.max(...all);
    };
    figures.iperf_hand_mbit = Math.round((await bps(pr1, pr2, handAddr.b)) / 1e6);
    figures.iperf_direct_mbit = Math.round((await bps(pr1, pr2, pr2.address ?? "")) / 1e6);
    const serverPid = lab.server.child.pid ?? 0;
    const cpu0 = cpuSeconds(serverPid);
    const bytes0 = await relayBytes(lab);
    figures.iperf_relayed_mbit = Math.round((await bps(sym1, sym2, sym2.address ?? "")) / 1e6);
    const cpu = cpuSeconds(serverPid) - cpu0;
    const gb = ((await relayBytes(lab)) - bytes0) / 1e9;
    figures.server_cpu_s_per_relayed_gb = Number((cpu / gb).toFixed(2));
    figures.direct_vs_hand = Number(
      (Number(figures.iperf_direct_mbit) / Number(figures.iperf_hand_mbit)).toFixed(2),
    );
    figures.relayed_vs_direct = Number(
      (Number(figures.iperf_relayed_mbit) / Number(figures.iperf_direct_mbit)).toFixed(2),
    );
  } finally {
    for (const d of [pr1, pr2]) {
      await run(d.host, "ip", ["link", "del", handName(d)]);
      rmSync(`/tmp/wgbench-${d.name}.key`, { force: true });
    }
    await lab.stop();
  }
  const lines = [
    `# NAT lab figures (${new Date().toISOString().slice(0, 10)})`,
    "",
    "Measured by `npm run bench -- nat` on this project's 2-core machine (wireguard-go; the",
    "server, four daemons and iperf3 share the cores). See bench/README.md.",
    "",
    "| figure | value |",
    "|---|---|",
    ...Object.entries(figures).map(([k, v]) => `| ${k} | ${v} |`),
    "",
  ];
  console.log(lines.join("\n"));
  if (write) {
    const stamp = new Date().toISOString().slice(0, 10);
    const suffix = args.includes("--quick") ? "-quick" : "";
    writeFileSync(path.join(RESULTS, `nat-${stamp}${suffix}.json`), `${JSON.stringify(figures, null, 2)}\n`);
    writeFileSync(path.join(RESULTS, `nat-${stamp}${suffix}.md`), lines.join("\n"));
  }
}
