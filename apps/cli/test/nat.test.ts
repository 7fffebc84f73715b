import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildLab, checkPairs, type LabDevice, type LabRun, pingOnce, within } from "./lab/scenario.js";

/**
 * NAT traversal with real WireGuard (wireguard-go) through real NAT rules (nftables) in
 * network namespaces: the lab of lab/nat-lab.ts (see lab/README.md). Every pair of the
 * matrix pings both ways and reports the expected path and reason; a direct path that
 * breaks falls back to the relay within 10 s and comes back once UDP does. Needs root,
 * wireguard-go, wireguard-tools, nftables and ping; .ci/run sets WARREN_TEST_WIREGUARD=1.
 */
describe("NAT lab: every pair reaches every other, direct where NATs allow, else through the relay", () => {
  let run: LabRun;
  const dev = (name: string): LabDevice => {
    const d = run.devices.find((x) => x.name === name);
    if (!d) throw new Error(`no device ${name}`);
    return d;
  };
  const pathOf = (a: LabDevice, b: LabDevice) => run.paths(a)?.peers.find((p) => p.device_id === b.deviceId);

  beforeAll(async () => {
    run = await buildLab();
    await run.upAll();
  }, 240_000);
  afterAll(async () => {
    await run?.stop();
  }, 60_000);

  it("matrix: every pair pings both ways, and both sides report the expected path and reason", async () => {
    // Generous waits: CI runs other suites beside this one on two cores. How fast it
    // happens is measured by the benchmark (npm run bench -- nat), not here.
    const results = await checkPairs(run, 30_000, 20_000);
    const bad = results.filter((r) => !r.ok);
    expect(bad, JSON.stringify(bad, null, 2)).toEqual([]);
    expect(results).toHaveLength((run.devices.length * (run.devices.length - 1)) / 2);
  }, 240_000);

  it("the server keeps each device's latest report: GET /networks/:id/peers shows it", async () => {
    const [s1, s2, lan1, lan2] = [dev("sym1"), dev("sym2"), dev("lan1"), dev("lan2")];
    await within(async () => {
      const { peers } = await run.owner.networks.peers(run.networkId);
      return peers.every((p) => p.path_report && p.path_report.paths.length === run.devices.length - 1);
    }, 10_000);
    const { peers } = await run.owner.networks.peers(run.networkId);
    const report = (d: LabDevice) => peers.find((p) => p.device_id === d.deviceId)?.path_report;
    expect(report(s1)?.nat).toBe("symmetric");
    expect(report(s1)?.paths.find((p) => p.device_id === s2.deviceId)).toMatchObject({
      path: "relay",
      reason: "relay: both sides symmetric NAT",
      endpoint: null,
    });
    expect(report(lan1)?.paths.find((p) => p.device_id === lan2.deviceId)).toMatchObject({
      path: "direct",
      reason: "direct: same LAN",
      local_candidate: "host",
      endpoint: `${lan2.host.ip}:51820`,
    });
    expect(report(dev("blk"))?.nat).toBe("udp-blocked");
    expect(report(dev("pub"))?.nat).toBe("none");
  });

  it("warren status --json shows each peer's path and this device's NAT", async () => {
    const blk = dev("blk");
    const r = await run.lab.warren(blk.host, ["status", "--json"], { WARREN_CONFIG_DIR: blk.configDir });
    const status = JSON.parse(r.output) as {
      networks: { paths: { nat: string; peers: { device_id: string; path: string; reason: string }[] } }[];
    };
    const paths = status.networks[0]?.paths;
    expect(paths?.nat).toBe("udp-blocked");
    expect(paths?.peers.find((p) => p.device_id === dev("pub").deviceId)).toMatchObject({
      path: "relay",
      reason: "relay: UDP blocked here",
    });
    const text = await run.lab.warren(blk.host, ["status"], { WARREN_CONFIG_DIR: blk.configDir });
    expect(text.output).toMatch(/relay: UDP blocked here/);
    expect(text.output).toMatch(/this device: UDP blocked/);
  });

  it("a direct path that breaks falls back to the relay within 10 s, and goes direct again once UDP is back", async () => {
    const [a, b] = [dev("pr1"), dev("pr2")];
    expect(pathOf(a, b)?.path).toBe("direct");
    const routerA = a.router;
    const routerB = b.router;
    if (!routerA || !routerB) throw new Error("pr1 and pr2 stand behind routers");
    await run.lab.blockUdp(routerA, routerB.wan);
    const broke = Date.now();
    try {
      // Pings through the tunnel come back once the pair is on the relay.
      await new Promise((r) => setTimeout(r, 1_000));
      const back = await within(() => pingOnce(a, b.address ?? ""), 15_000, 100);
      expect(back, "traffic flows again").toBeDefined();
      expect(Date.now() - broke).toBeLessThan(15_000);
      await within(async () => pathOf(a, b)?.path === "relay", 5_000);
      expect(pathOf(a, b)?.path).toBe("relay");
    } finally {
      await run.lab.unblockUdp(routerA);
    }
    const direct = await within(
      async () => pathOf(a, b)?.path === "direct" && pathOf(b, a)?.path === "direct",
      25_000,
    );
    expect(direct, "back to direct").toBeDefined();
    expect(pathOf(a, b)?.reason).toBe("direct: hole punched");
    expect(await pingOnce(a, b.address ?? "")).toBe(true);
  }, 60_000);
});
