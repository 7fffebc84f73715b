import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Account,
  community,
  type Lab,
  networkIn,
  startLab,
  type TestDaemon,
  until,
} from "./helpers/daemon.js";

/**
 * The daemon's answer to frames that take this device out: its own peer removed, the
 * user leaving, kicked or banned from a network or the whole community, the network or
 * the community deleted. Each removes exactly the interfaces concerned (the memory
 * backend records the removal), and the daemon keeps running for the rest.
 */
describe("daemon: this device taken out of networks", () => {
  let lab: Lab;
  let owner: Account;
  let carol: Account;

  /** Carol's daemon in two networks of one community and one of another. */
  const setup = async () => {
    const { tenant, network: first } = await community(owner);
    const second = await networkIn(owner, tenant.id);
    const { network: elsewhere } = await community(owner);
    await carol.client.tenants.join(tenant.id);
    await carol.client.tenants.join(elsewhere.tenant_id);
    const d = await lab.daemon(await carol.device(), [first, second, elsewhere]);
    for (const n of [first, second, elsewhere]) expect(d.spec(n.id)).toBeDefined();
    return { tenant, first, second, elsewhere, d };
  };

  const removedIds = (d: TestDaemon) =>
    d.backend.history.filter((c) => c.op === "remove").map((c) => c.name.slice(-8));
  const gone = (d: TestDaemon, id: string) => until(`${id} removed`, () => d.spec(id) === undefined);
  const up = (d: TestDaemon) => d.running.daemon.networks().map((n) => n.network_id);
  const tail = (id: string) => id.replaceAll("-", "").slice(-8);

  beforeAll(async () => {
    lab = await startLab();
    [owner, carol] = await Promise.all([lab.account("own"), lab.account("carol")]);
  });
  afterAll(async () => {
    await lab?.close();
  });

  it("peer_removed of this device: that network's interface goes, the others stay", async () => {
    const { first, second, elsewhere, d } = await setup();
    const peer = d.running.daemon.networks().find((n) => n.network_id === first.id);
    await owner.client.peers.remove(peer?.peer_id ?? "");
    await gone(d, first.id);
    expect(removedIds(d)).toEqual([tail(first.id)]);
    expect(up(d).sort()).toEqual([second.id, elsewhere.id].sort());
    expect(d.logs.join("\n")).toMatch(/removed wt\w+: this device was removed from the network/);
  });

  it("member_removed (left, network): the user leaves one network", async () => {
    const { first, second, d } = await setup();
    await carol.client.networks.leave(first.id);
    await gone(d, first.id);
    expect(removedIds(d)).toEqual([tail(first.id)]);
    expect(d.spec(second.id)).toBeDefined();
    expect(d.logs.join("\n")).toContain("left from the network");
  });

  it("member_removed (kicked, network)", async () => {
    const { first, second, d } = await setup();
    await owner.client.networks.kick(first.id, carol.id);
    await gone(d, first.id);
    expect(removedIds(d)).toEqual([tail(first.id)]);
    expect(d.spec(second.id)).toBeDefined();
    expect(d.logs.join("\n")).toContain("kicked from the network");
  });

  it("member_removed (banned, network), with the reason in the log", async () => {
    const { first, second, d } = await setup();
    await owner.client.networks.ban(first.id, { user_id: carol.id, reason: "spam" });
    await gone(d, first.id);
    expect(removedIds(d)).toEqual([tail(first.id)]);
    expect(d.spec(second.id)).toBeDefined();
    expect(d.logs.join("\n")).toContain("banned (spam)");
  });

  it("member_removed (kicked, community): every network of that community goes", async () => {
    const { tenant, first, second, elsewhere, d } = await setup();
    await owner.client.tenants.kick(tenant.id, carol.id);
    await gone(d, first.id);
    await gone(d, second.id);
    expect(d.spec(elsewhere.id)).toBeDefined();
    expect(up(d)).toEqual([elsewhere.id]);
    expect(d.logs.join("\n")).toContain("kicked from the community");
  });

  it("member_removed (banned, community)", async () => {
    const { tenant, first, second, elsewhere, d } = await setup();
    await owner.client.tenants.ban(tenant.id, { user_id: carol.id, reason: "abuse" });
    await gone(d, first.id);
    await gone(d, second.id);
    expect(d.spec(elsewhere.id)).toBeDefined();
    expect(d.logs.join("\n")).toContain("banned (abuse)");
  });

  it("member_removed (left, community)", async () => {
    const { tenant, first, second, elsewhere, d } = await setup();
    await carol.client.tenants.leave(tenant.id);
    await gone(d, first.id);
    await gone(d, second.id);
    expect(d.spec(elsewhere.id)).toBeDefined();
    expect(d.logs.join("\n")).toContain("left from the community");
  });

  it("network_deleted: the deleted network's interface goes", async () => {
    const { first, second, d } = await setup();
    await owner.client.networks.remove(first.id);
    await gone(d, first.id);
    expect(removedIds(d)).toEqual([tail(first.id)]);
    expect(d.spec(second.id)).toBeDefined();
    expect(d.logs.join("\n")).toContain("the network was deleted");
  });

  it("tenant_deleted: every network of the community goes, others stay", async () => {
    const { tenant, first, second, elsewhere, d } = await setup();
    await owner.client.tenants.remove(tenant.id);
    await gone(d, first.id);
    await gone(d, second.id);
    expect(removedIds(d).sort()).toEqual([tail(first.id), tail(second.id)].sort());
    expect(up(d)).toEqual([elsewhere.id]);
    expect(d.logs.join("\n")).toContain("the community was deleted");
  });
});
