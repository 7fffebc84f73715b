import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Client, createClient } from "../../../packages/sdk/src/index.js";
import { createLab, eventually, type Host, type LabProcess, pings, sh } from "./helpers/netns.js";

/**
 * The LAN's proof, with real WireGuard (wireguard-go) in network namespaces: a server
 * namespace, device namespaces linked through a bridge namespace, every device running
 * `warren up`. Needs root, wireguard-go, wireguard-tools, iproute2 and ping; .ci/run
 * installs them and sets WARREN_TEST_WIREGUARD=1; without it vitest.config.ts leaves
 * this file out.
 */

const PASSWORD = "correct horse battery";
const PORT = "8080";

interface Device {
  host: Host;
  user: string;
  client: Client;
  configDir: string;
  prefix: string;
  daemon?: LabProcess;
}

describe("warren up: devices on one virtual LAN over real WireGuard", () => {
  const lab = createLab();
  let serverHost: Host;
  let server: LabProcess;
  let url: string;
  let owner: Client;
  let tenantA: string;
  let tenantB: string;
  let netA: string;
  let netB: string;
  const devices: Record<string, Device> = {};
  const dev = (name: string): Device => {
    const d = devices[name];
    if (!d) throw new Error(`no device ${name}: an earlier step failed`);
    return d;
  };

  const env = (d: Device) => ({ WARREN_CONFIG_DIR: d.configDir });
  const cli = async (d: Device, args: string[], input?: string) => {
    const r = await lab.warren(d.host, args, env(d), input);
    if (r.code !== 0) throw new Error(`warren ${args.join(" ")} exited ${r.code}:\n${r.output}`);
    return r.output;
  };

  const startServer = async () => {
    server = lab.spawnWarren(serverHost, ["server"], {
      PORT,
      HOST: "0.0.0.0",
      DATA_DIR: `/tmp/warren-lan-${lab.id}`,
      LOG_LEVEL: "warn",
      RECONNECT_AFTER: "200ms",
    });
    await eventually(
      async () => (await fetch(`${url}/ready`).catch(() => undefined))?.ok === true,
      30_000,
      "server ready",
    );
  };

  const addDevice = async (name: string, prefix: string): Promise<Device> => {
    const host = await lab.addHost(name);
    const user = `${name}-${lab.id}`;
    const client = createClient({ baseUrl: url });
    await client.auth.register({ username: user, password: PASSWORD });
    const device: Device = { host, user, client, configDir: `/tmp/warren-lan-${lab.id}/${name}`, prefix };
    await cli(device, ["login", "--server", url, "--username", user, "--password-stdin"], `${PASSWORD}\n`);
    devices[name] = device;
    return device;
  };

  const join = async (d: Device, tenantId: string, networkId: string) => {
    const invite = await owner.invites.create(tenantId, { network_id: networkId, max_uses: 1 });
    await cli(d, ["join", invite.code]);
  };

  const up = async (d: Device, networks: string[]) => {
    d.daemon = lab.spawnWarren(d.host, ["up", ...networks, "--prefix", d.prefix], env(d));
    for (const n of networks) await d.daemon.waitFor(new RegExp(`${n}: \\S+ up at`), 30_000);
  };

  const addressOf = async (d: Device, networkId: string) => {
    const { peers } = await owner.networks.peers(networkId);
    const me = await d.client.auth.me();
    const peer = peers.find((p) => p.user_id === me.id);
    if (!peer) throw new Error(`${d.host.name} has no peer in ${networkId}`);
    return peer.address;
  };

  const peerKey = async (d: Device) => {
    const me = await d.client.auth.me();
    return (await owner.networks.peers(netA)).peers.find((p) => p.user_id === me.id)?.public_key ?? "";
  };

  const interfaces = async (h: Host) => {
    const r = await h.exec("ip", ["-o", "link", "show"]);
    return [...r.stdout.matchAll(/^\d+: ([^:@]+)[:@]/gm)]
      .map((m) => m[1] as string)
      .filter((n) => n !== "lo" && n !== "eth0");
  };

  const reachable = (from: Device, address: string, ms: number) =>
    eventually(() => pings(from.host, address), ms, `${from.host.name} pings ${address}`);

  beforeAll(async () => {
    await lab.setup();
    serverHost = await lab.addHost("srv");
    url = `http://${serverHost.ip}:${PORT}`;
    await startServer();
    owner = createClient({ baseUrl: url });
    await owner.auth.register({ username: `owner-${lab.id}`, password: PASSWORD });
    tenantA = (await owner.tenants.create({ name: `lan-a-${lab.id}` })).id;
    tenantB = (await owner.tenants.create({ name: `lan-b-${lab.id}` })).id;
    netA = (await owner.networks.create(tenantA, { name: "office", cidr: "10.77.0.0/24" })).id;
    netB = (await owner.networks.create(tenantB, { name: "lab", cidr: "10.88.0.0/24" })).id;
    const d1 = await addDevice("d1", `w${lab.id.slice(-3)}a`);
    const d2 = await addDevice("d2", `w${lab.id.slice(-3)}b`);
    const d3 = await addDevice("d3", `w${lab.id.slice(-3)}c`);
    const d5 = await addDevice("d5", `w${lab.id.slice(-3)}e`);
    for (const d of [d1, d2, d3]) await join(d, tenantA, netA);
    for (const d of [d1, d5]) await join(d, tenantB, netB);
    await up(d1, ["office", "lab"]);
    await Promise.all([up(d2, ["office"]), up(d3, ["office"]), up(d5, ["lab"])]);
  }, 240_000);

  afterAll(async () => {
    await lab.destroy();
    await sh("rm", ["-rf", `/tmp/warren-lan-${lab.id}`], { allowFailure: true });
  }, 60_000);

  it("every device pings every other at its virtual address", async () => {
    const trio = [dev("d1"), dev("d2"), dev("d3")];
    const addresses = await Promise.all(trio.map((d) => addressOf(d, netA)));
    for (const [i, from] of trio.entries()) {
      for (const [j, to] of addresses.entries()) if (i !== j) await reachable(from, to, 10_000);
    }
  }, 60_000);

  it("one device in two networks of two communities reaches members of both", async () => {
    const d1 = dev("d1");
    await reachable(d1, await addressOf(dev("d2"), netA), 10_000);
    await reachable(d1, await addressOf(dev("d5"), netB), 10_000);
    await reachable(dev("d5"), await addressOf(d1, netB), 10_000);
    // d5 is only in the lab network: the office's addresses are not routed there.
    expect(await pings(dev("d5").host, await addressOf(dev("d2"), netA))).toBe(false);
    expect((await interfaces(d1.host)).length).toBe(2);
  }, 60_000);

  it("a fourth device joining is reachable by every other within 5 s, nobody restarted", async () => {
    const d4 = await addDevice("d4", `w${lab.id.slice(-3)}d`);
    await join(d4, tenantA, netA);
    await up(d4, ["office"]);
    const address = await addressOf(d4, netA);
    const others = [dev("d1"), dev("d2"), dev("d3")];
    const took = await Promise.all(others.map((d) => reachable(d, address, 5_000)));
    console.log(`fourth device reachable by all after ${Math.max(...took)} ms`);
    for (const d of others) await reachable(d4, await addressOf(d, netA), 5_000);
  }, 90_000);

  it("rotating a device's key keeps pings working once its peers apply it", async () => {
    const d2 = dev("d2");
    const oldKey = await peerKey(d2);
    await cli(d2, ["devices", "rotate-key"]);
    const newKey = await peerKey(d2);
    expect(newKey).not.toBe(oldKey);
    const d1 = dev("d1");
    await eventually(
      async () => (await d1.host.exec("wg", ["show", "all", "peers"])).stdout.includes(newKey),
      5_000,
      "d1 applies d2's new key",
    );
    // And d2's own daemon switched to the new private key (not at the next 60 s check).
    await eventually(
      async () => (await d2.host.exec("wg", ["show", "all", "public-key"])).stdout.includes(newKey),
      5_000,
      "d2's interface uses its new key",
    );
    await reachable(d1, await addressOf(d2, netA), 10_000);
    await reachable(d2, await addressOf(d1, netA), 10_000);
  }, 60_000);

  it("kicking a member removes their interface and makes their address unreachable within 5 s", async () => {
    const d3 = dev("d3");
    const address = await addressOf(d3, netA);
    const me = await d3.client.auth.me();
    const key = await peerKey(d3);
    await owner.tenants.kick(tenantA, me.id);
    await eventually(async () => (await interfaces(d3.host)).length === 0, 5_000, "d3's interface is gone");
    await d3.daemon?.waitFor(/office: removed \S+: kicked/, 5_000);
    const d1 = dev("d1");
    await eventually(
      async () => !(await d1.host.exec("wg", ["show", "all", "peers"])).stdout.includes(key),
      5_000,
      "d1 drops d3's peer",
    );
    expect(await pings(d1.host, address)).toBe(false);
  }, 30_000);

  it("tunnels stay up while the server is killed; the daemons resynchronise after its restart", async () => {
    const [d1, d2, d4] = [dev("d1"), dev("d2"), dev("d4")];
    const a2 = await addressOf(d2, netA);
    await server.stop("SIGKILL");
    await reachable(d1, a2, 5_000);
    await startServer();
    // Back online: every daemon reconnected with its device id.
    await eventually(
      async () => (await owner.networks.peers(netA)).peers.filter((p) => p.online).length === 3,
      20_000,
      "three devices online again",
    );
    // And a change made now reaches them: the owner moves d4 to another address.
    const me4 = await d4.client.auth.me();
    const p4 = (await owner.networks.peers(netA)).peers.find((p) => p.user_id === me4.id);
    await owner.peers.setAddress(p4?.id as string, { address: "10.77.0.200" });
    await reachable(d1, "10.77.0.200", 5_000);
    await reachable(d4, a2, 5_000);
  }, 90_000);

  it("warren status shows networks, addresses, peers and handshakes", async () => {
    const d1 = dev("d1");
    const out = await cli(d1, ["status", "--json"]);
    const status = JSON.parse(out) as {
      daemon: { running: boolean };
      networks: {
        network_name: string;
        address: string;
        status: { peers: { latest_handshake: string | null }[] };
      }[];
    };
    expect(status.daemon.running).toBe(true);
    expect(status.networks.map((n) => n.network_name).sort()).toEqual(["lab", "office"]);
    const office = status.networks.find((n) => n.network_name === "office");
    expect(office?.address).toBe(`${await addressOf(d1, netA)}/24`);
    expect(office?.status.peers.some((p) => p.latest_handshake !== null)).toBe(true);
    expect(await cli(d1, ["status"])).toMatch(/office\s+\S+\s+10\.77\.0\.\d+\/24/);
  }, 30_000);

  it("warren down removes one network, then everything up created, leaving no interface, address or route", async () => {
    const d1 = dev("d1");
    await cli(d1, ["down", "lab"]);
    expect((await interfaces(d1.host)).length).toBe(1);
    await reachable(d1, await addressOf(dev("d2"), netA), 5_000);
    await cli(d1, ["down"]);
    expect(await d1.daemon?.exited).toBe(0);
    expect(await interfaces(d1.host)).toEqual([]);
    const addrs = await d1.host.exec("ip", ["-o", "-4", "addr", "show"]);
    expect(addrs.stdout).not.toMatch(/10\.(77|88)\./);
    const routes = await d1.host.exec("ip", ["-4", "route", "show"]);
    expect(routes.stdout).not.toMatch(/10\.(77|88)\./);
  }, 30_000);

  it("a ban says why, and a deleted network takes its interfaces with it", async () => {
    const [d4, d5] = [dev("d4"), dev("d5")];
    const me4 = await d4.client.auth.me();
    await owner.tenants.ban(tenantA, { user_id: me4.id, reason: "cheating" });
    await d4.daemon?.waitFor(/office: removed \S+: banned \(cheating\) from the community/, 5_000);
    expect(await interfaces(d4.host)).toEqual([]);
    await owner.networks.remove(netB);
    await d5.daemon?.waitFor(/lab: removed \S+: the network was deleted/, 5_000);
    expect(await interfaces(d5.host)).toEqual([]);
  }, 30_000);
});
