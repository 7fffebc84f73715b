import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { backends } from "./helpers/backends.js";
import { clientPool, sleep } from "./helpers/hub-client.js";
import { startTestServer, type TestServer } from "./helpers/server.js";
import { networkFixtures, RANDOM_ID } from "./networks-fixtures.js";

/** Endpoints, online status over the hub, and removing peers, seen on live sockets. */
describe.each(backends())("peers: endpoint, online status, removal ($name)", (backend) => {
  let t: TestServer;
  let f: ReturnType<typeof networkFixtures>;
  let cast: Awaited<ReturnType<ReturnType<typeof networkFixtures>["cast"]>>;
  const pool = clientPool();
  let subnet = 0;

  /** A network with the owner's and the member's devices in it; `other` is in the network without a device. */
  const populated = async () => {
    const id = await f.network(cast.tenant, cast.owner, { cidr: `10.${90 + ++subnet}.0.0/24` });
    await f.joined(id, cast.member);
    await f.joined(id, cast.other);
    const dOwner = await f.device(cast.owner, "gateway");
    const dMember = await f.device(cast.member, "laptop");
    const pOwner = await f.peer(id, cast.owner, dOwner.id);
    const pMember = await f.peer(id, cast.member, dMember.id);
    return { id, dOwner, dMember, pOwner, pMember };
  };

  const peersOf = async (id: string) =>
    f.ok(await t.api("GET", `/v1/networks/${id}/peers`, { token: cast.owner.token }), 200).peers as any[];

  beforeAll(async () => {
    t = await startTestServer(backend);
    f = networkFixtures(t.api);
    cast = await f.cast();
  }, 60_000);
  afterEach(() => pool.closeAll());
  afterAll(() => t.close());

  it("pushes a new endpoint to the network's members (peer_updated)", async () => {
    const n = await populated();
    const watcher = await pool.connect(t.url, cast.owner);
    const res = await t.api("PATCH", `/v1/peers/${n.pMember.id}/endpoint`, {
      token: cast.member.token,
      body: { endpoint: "[2001:DB8::5]:51820" },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: n.pMember.id, endpoint: "[2001:db8::5]:51820" });
    const frame = await watcher.next("peer_updated", 5000);
    expect(frame).toEqual({ type: "peer_updated", network_id: n.id, peer: res.body });
    expect((await peersOf(n.id)).find((p) => p.id === n.pMember.id).endpoint).toBe("[2001:db8::5]:51820");
    const audit = await t.server.database.db
      .selectFrom("audit_events")
      .select(["actor_id", "tenant_id"])
      .where("action", "=", "peer.endpoint")
      .where("target", "=", n.pMember.id)
      .execute();
    expect(audit).toEqual([{ actor_id: cast.member.id, tenant_id: cast.tenant }]);
  });

  it("takes endpoints only from the device's owner, and only well-formed ones", async () => {
    const n = await populated();
    for (const endpoint of ["nohost", "1.2.3.4:70000", "1.2.3.4:80\nPostUp = x", "[::1:80", ""]) {
      const res = await t.api("PATCH", `/v1/peers/${n.pMember.id}/endpoint`, {
        token: cast.member.token,
        body: { endpoint },
      });
      expect(res.status, endpoint).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
    }
    for (const token of [cast.owner.token, cast.admin.token, cast.other.token]) {
      const res = await t.api("PATCH", `/v1/peers/${n.pMember.id}/endpoint`, {
        token,
        body: { endpoint: "198.51.100.1:1" },
      });
      expect(res.status).toBe(404);
    }
    const random = await t.api("PATCH", `/v1/peers/${RANDOM_ID}/endpoint`, {
      token: cast.member.token,
      body: { endpoint: "198.51.100.1:1" },
    });
    expect(random.status).toBe(404);
    expect((await peersOf(n.id)).find((p) => p.id === n.pMember.id).endpoint).toBeNull();
  });

  it("shows a device online in its networks while a hub socket with its id is open", async () => {
    const n = await populated();
    f.ok(
      await t.api("PATCH", `/v1/peers/${n.pMember.id}/endpoint`, {
        token: cast.member.token,
        body: { endpoint: "198.51.100.20:51820" },
      }),
      200,
    );
    const watcher = await pool.connect(t.url, cast.other);
    const first = await pool.connect(t.url, cast.member, { device: n.dMember.id });
    expect(await watcher.next("peer_status", 5000)).toEqual({
      type: "peer_status",
      network_id: n.id,
      peer_id: n.pMember.id,
      status: "online",
      endpoint: "198.51.100.20:51820",
    });
    const listed = (await peersOf(n.id)).find((p) => p.id === n.pMember.id);
    expect(listed.online).toBe(true);
    expect(listed.last_seen).toEqual(expect.any(String));
    const device = f.ok(await t.api("GET", `/v1/devices/${n.dMember.id}`, { token: cast.member.token }), 200);
    expect(device.last_seen).toBe(listed.last_seen);
    expect((await peersOf(n.id)).find((p) => p.id === n.pOwner.id).online).toBe(false);

    // A second socket of the same device changes nothing; only the last one closing does.
    const second = await pool.connect(t.url, cast.member, { device: n.dMember.id });
    await first.close();
    await sleep(300);
    expect((await peersOf(n.id)).find((p) => p.id === n.pMember.id).online).toBe(true);
    await second.close();
    expect(await watcher.next("peer_status", 5000)).toEqual({
      type: "peer_status",
      network_id: n.id,
      peer_id: n.pMember.id,
      status: "offline",
      endpoint: "198.51.100.20:51820",
    });
    expect(watcher.all.filter((fr) => fr.type === "peer_status")).toHaveLength(2);
    const after = (await peersOf(n.id)).find((p) => p.id === n.pMember.id);
    expect(after.online).toBe(false);
    expect(after.last_seen >= listed.last_seen).toBe(true);
  });

  it("does not count a socket that claims someone else's device id, or no registered device", async () => {
    const n = await populated();
    const watcher = await pool.connect(t.url, cast.other);
    // The admin claims the member's device id; the member opens a socket without a device id.
    const spoof = await pool.connect(t.url, cast.admin, { device: n.dMember.id });
    await pool.connect(t.url, cast.member);
    await sleep(300);
    expect((await peersOf(n.id)).find((p) => p.id === n.pMember.id).online).toBe(false);
    // The real device comes online; the impostor leaving does not take it offline.
    await pool.connect(t.url, cast.member, { device: n.dMember.id });
    expect(await watcher.next("peer_status", 5000)).toMatchObject({
      peer_id: n.pMember.id,
      status: "online",
    });
    await spoof.close();
    await sleep(300);
    expect((await peersOf(n.id)).find((p) => p.id === n.pMember.id).online).toBe(true);
    expect(watcher.all.filter((fr) => fr.type === "peer_status").map((fr) => fr.status)).toEqual(["online"]);
  });

  it("lets the device's owner remove its peer; members hear peer_removed", async () => {
    const n = await populated();
    const watcher = await pool.connect(t.url, cast.owner);
    const res = await t.api("DELETE", `/v1/peers/${n.pMember.id}`, { token: cast.member.token });
    expect(res.status).toBe(204);
    expect(await watcher.next("peer_removed", 5000)).toEqual({
      type: "peer_removed",
      network_id: n.id,
      peer_id: n.pMember.id,
      device_id: n.dMember.id,
      user_id: cast.member.id,
    });
    expect((await peersOf(n.id)).map((p) => p.id)).toEqual([n.pOwner.id]);
    // The device itself stays; only its place in the network is gone.
    const device = f.ok(await t.api("GET", `/v1/devices/${n.dMember.id}`, { token: cast.member.token }), 200);
    expect(device.networks).toEqual([]);
    expect((await t.api("DELETE", `/v1/peers/${n.pMember.id}`, { token: cast.member.token })).status).toBe(
      404,
    );
  });

  it("lets admins remove anyone's peer; other members get 403, outsiders 404", async () => {
    const n = await populated();
    const stranger = await f.user();
    const other = await t.api("DELETE", `/v1/peers/${n.pOwner.id}`, { token: cast.other.token });
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe("forbidden");
    for (const token of [cast.moderator.token, stranger.token]) {
      const res = await t.api("DELETE", `/v1/peers/${n.pMember.id}`, { token });
      expect(res.status).toBe(404);
      expect(res.body.error).toEqual({ code: "not_found", message: "No such peer" });
    }
    expect(await peersOf(n.id)).toHaveLength(2);

    const watcher = await pool.connect(t.url, cast.other);
    expect((await t.api("DELETE", `/v1/peers/${n.pMember.id}`, { token: cast.admin.token })).status).toBe(
      204,
    );
    expect(await watcher.next("peer_removed", 5000)).toMatchObject({
      peer_id: n.pMember.id,
      user_id: cast.member.id,
    });
    const rows = await t.server.database.db
      .selectFrom("audit_events")
      .select(["actor_id", "tenant_id"])
      .where("action", "=", "peer.remove")
      .where("target", "=", n.pMember.id)
      .execute();
    expect(rows).toEqual([{ actor_id: cast.admin.id, tenant_id: cast.tenant }]);
  });
});
