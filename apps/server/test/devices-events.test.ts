import { x25519 } from "@noble/curves/ed25519.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { backends } from "./helpers/backends.js";
import { clientPool, type HubUser } from "./helpers/hub-client.js";
import { startTestServer, type TestServer } from "./helpers/server.js";
import { networkFixtures } from "./networks-fixtures.js";

const wgKey = () => Buffer.from(x25519.getPublicKey(x25519.utils.randomSecretKey())).toString("base64");

/**
 * A device in two networks of two communities: renaming it, rotating its key and
 * deleting it reach live sockets of the other members of both.
 */
describe.each(backends())("devices: what members of its networks hear ($name)", (backend) => {
  let t: TestServer;
  let f: ReturnType<typeof networkFixtures>;
  const pool = clientPool();
  let subnet = 0;

  /** Two communities, each with one network `owner1`/`owner2` run, both joined by `user`. */
  const twoNetworks = async () => {
    const [owner1, owner2, user] = await Promise.all([f.user(), f.user(), f.user()]);
    const t1 = await f.community(owner1);
    const t2 = await f.community(owner2);
    await f.member(t1, user, "member", owner1);
    await f.member(t2, user, "member", owner2);
    const n1 = await f.network(t1, owner1, { cidr: `10.${40 + ++subnet}.0.0/24` });
    const n2 = await f.network(t2, owner2, { cidr: `10.${40 + ++subnet}.0.0/24` });
    await f.joined(n1, user);
    await f.joined(n2, user);
    const device = await f.device(user, "roaming");
    const p1 = await f.peer(n1, user, device.id);
    const p2 = await f.peer(n2, user, device.id);
    return { owner1, owner2, user, t1, t2, n1, n2, device, p1, p2 };
  };

  const watch = (u: HubUser) => pool.connect(t.url, u);

  beforeAll(async () => {
    t = await startTestServer(backend);
    f = networkFixtures(t.api);
  }, 60_000);
  afterEach(() => pool.closeAll());
  afterAll(() => t.close());

  it("lists the networks a device is in", async () => {
    const s = await twoNetworks();
    const d = f.ok(await t.api("GET", `/v1/devices/${s.device.id}`, { token: s.user.token }), 200);
    expect(d.networks).toEqual(
      expect.arrayContaining([
        { network_id: s.n1, peer_id: s.p1.id, address: s.p1.address },
        { network_id: s.n2, peer_id: s.p2.id, address: s.p2.address },
      ]),
    );
    expect(d.networks).toHaveLength(2);
  });

  it("tells every network of the device its new key (peer_updated)", async () => {
    const s = await twoNetworks();
    const [w1, w2] = await Promise.all([watch(s.owner1), watch(s.owner2)]);
    const key = wgKey();
    const res = await t.api("POST", `/v1/devices/${s.device.id}/rotate-key`, {
      token: s.user.token,
      body: { public_key: key },
    });
    expect(res.status).toBe(200);
    expect(res.body.public_key).toBe(key);
    for (const [w, net, peer] of [
      [w1, s.n1, s.p1],
      [w2, s.n2, s.p2],
    ] as const) {
      const frame = await w.next("peer_updated", 5000);
      expect(frame).toEqual({
        type: "peer_updated",
        network_id: net,
        peer: {
          id: peer.id,
          network_id: net,
          device_id: s.device.id,
          user_id: s.user.id,
          name: "roaming",
          address: peer.address,
          public_key: key,
          endpoint: null,
          online: false,
          last_seen: null,
        },
      });
    }
    // The peer list shows the new key too.
    const peers = f.ok(
      await t.api("GET", `/v1/networks/${s.n1}/peers`, { token: s.owner1.token }),
      200,
    ).peers;
    expect(peers.find((p: any) => p.id === s.p1.id).public_key).toBe(key);
    // Each community's audit log shows the rotation.
    for (const tenant of [s.t1, s.t2]) {
      const rows = await t.server.database.db
        .selectFrom("audit_events")
        .select(["action", "actor_id"])
        .where("tenant_id", "=", tenant)
        .where("action", "=", "device.rotate_key")
        .execute();
      expect(rows).toEqual([{ action: "device.rotate_key", actor_id: s.user.id }]);
    }
  });

  it("tells every network of the device its new name (peer_updated)", async () => {
    const s = await twoNetworks();
    const w1 = await watch(s.owner1);
    f.ok(
      await t.api("PATCH", `/v1/devices/${s.device.id}`, { token: s.user.token, body: { name: "renamed" } }),
      200,
    );
    const frame = await w1.next("peer_updated", 5000);
    expect(frame.peer).toMatchObject({ id: s.p1.id, name: "renamed", public_key: s.device.public_key });
  });

  it("removes the device's peers when it is deleted: each network hears peer_removed", async () => {
    const s = await twoNetworks();
    const [w1, w2] = await Promise.all([watch(s.owner1), watch(s.owner2)]);
    f.ok(await t.api("DELETE", `/v1/devices/${s.device.id}`, { token: s.user.token }), 204);
    expect(await w1.next("peer_removed", 5000)).toEqual({
      type: "peer_removed",
      network_id: s.n1,
      peer_id: s.p1.id,
      device_id: s.device.id,
      user_id: s.user.id,
    });
    expect(await w2.next("peer_removed", 5000)).toMatchObject({ network_id: s.n2, peer_id: s.p2.id });
    for (const [n, owner] of [
      [s.n1, s.owner1],
      [s.n2, s.owner2],
    ] as const) {
      const peers = f.ok(await t.api("GET", `/v1/networks/${n}/peers`, { token: owner.token }), 200).peers;
      expect(peers.map((p: any) => p.device_id)).not.toContain(s.device.id);
    }
    // The freed address goes to the next device that joins.
    const again = await f.device(s.user, "again");
    expect((await f.peer(s.n1, s.user, again.id)).address).toBe(s.p1.address);
  });
});
