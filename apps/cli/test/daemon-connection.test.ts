import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Account,
  community,
  type Lab,
  peerOf,
  startLab,
  type TestDaemon,
  until,
} from "./helpers/daemon.js";

/**
 * The daemon losing its server: a restart (server_shutdown, then the server is back)
 * and a connection that just dies (no frame). Meanwhile the interfaces stay as they
 * are; once back, the daemon resyncs and picks up what changed while it was away. The
 * daemon reaches the server through a proxy the test can block and cut.
 */
describe("daemon: server restart and socket loss", () => {
  let lab: Lab;
  let owner: Account;
  let carol: Account;
  let bob: Account;

  const removals = (d: TestDaemon) => d.backend.history.filter((c) => c.op === "remove");
  const hasPeer = (d: TestDaemon, networkId: string, key: string) =>
    d.spec(networkId)?.peers.some((p) => p.publicKey === key) === true;

  /** Carol's daemon up in a new network. */
  const setup = async () => {
    const { network } = await community(owner);
    await carol.client.tenants.join(network.tenant_id);
    const d = await lab.daemon(await carol.device(), [network]);
    expect(d.spec(network.id)).toBeDefined();
    expect(d.running.socket.connected).toBe(true);
    return { network, d };
  };

  beforeAll(async () => {
    lab = await startLab();
    [owner, carol, bob] = await Promise.all([lab.account("own"), lab.account("carol"), lab.account("bob")]);
  });
  afterAll(async () => {
    await lab?.close();
  });

  it("server restart: server_shutdown, reconnect after it, state resynced, interfaces kept", async () => {
    const { network, d } = await setup();
    const shutdowns: number[] = [];
    d.running.socket.on("server_shutdown", (f) => shutdowns.push(f.reconnect_after_ms));
    const bobDevice = await bob.device();
    // Blocked: the daemon cannot come back before the change below is made.
    lab.proxy.block();
    await lab.restartServer(async () => {
      await until("server_shutdown heard", () => shutdowns.length > 0);
      expect(shutdowns).toEqual([100]);
      await until("the socket closed", () => !d.running.socket.connected);
    });
    // A change the daemon's socket cannot hear: it is not connected.
    await peerOf(bobDevice, network);
    expect(d.running.socket.connected).toBe(false);
    await until("a reconnect attempt refused", () => lab.proxy.refused.length > 0);
    expect(d.spec(network.id)).toBeDefined();
    lab.proxy.unblock();
    await until("bob in the spec after the resync", () => hasPeer(d, network.id, bobDevice.publicKey));
    expect(d.running.socket.connected).toBe(true);
    expect(d.logs).toContain("reconnected to the server: reconciling");
    expect(removals(d)).toEqual([]);
    await d.stop();
  });

  it("socket loss: no frame, reconnects with backoff, interfaces untouched meanwhile, then resyncs", async () => {
    const { network, d } = await setup();
    const bobDevice = await bob.device();
    const applies = d.backend.history.length;
    const before = lab.proxy.refused.length;
    lab.proxy.block();
    lab.proxy.cut();
    await until("the daemon sees the loss", () => !d.running.socket.connected);
    // Three refused attempts, spaced by the backoff (at least its 50 ms minimum).
    await until("three refused attempts", () => lab.proxy.refused.length - before >= 3);
    const tries = lab.proxy.refused.slice(before);
    for (let i = 1; i < tries.length; i++) {
      expect((tries[i] as number) - (tries[i - 1] as number)).toBeGreaterThanOrEqual(40);
    }
    // Nothing was torn down or reapplied while the server was unreachable.
    await peerOf(bobDevice, network);
    expect(d.backend.history.length).toBe(applies);
    expect(d.spec(network.id)).toBeDefined();
    lab.proxy.unblock();
    await until("bob in the spec after the resync", () => hasPeer(d, network.id, bobDevice.publicKey));
    expect(d.running.socket.connected).toBe(true);
    expect(d.logs.some((l) => /^lost the server \(1006\); reconnecting$/.test(l))).toBe(true);
    expect(removals(d)).toEqual([]);
    await d.stop();
  });
});
