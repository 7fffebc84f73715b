import { uuidv7 } from "@warren/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { backends } from "./helpers/backends.js";
import { clientPool, type HubClient, type HubUser, hubUser } from "./helpers/hub-client.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

describe.each(backends())("presence on $name", (backend) => {
  let t: TestServer;
  const pool = clientPool();
  beforeAll(async () => {
    t = await startTestServer(backend, { UPGRADE_RATE_LIMIT: "1000", ROOM_GRACE_PERIOD: "10s" });
  });
  afterEach(async () => pool.closeAll());
  afterAll(async () => t?.close());

  const connect = (u: HubUser, device?: string) => pool.connect(t.url, u, device ? { device } : {});

  /** a and b share a room; c is online in a room of their own, shared with nobody. */
  async function scene() {
    const [a, b, c] = [await hubUser(t.api), await hubUser(t.api), await hubUser(t.api)];
    const [ac, bc, cc] = [await connect(a), await connect(b, "b1"), await connect(c)];
    const room = (await ac.request({ type: "room.create", name: "p" })).result.room.id;
    expect((await bc.request({ type: "room.join", room })).type).toBe("result");
    await ac.next("peer_joined");
    expect((await cc.request({ type: "room.create", name: "alone" })).type).toBe("result");
    return { a, b, c, ac, bc, cc, room };
  }

  it("tells users who share a room when a user goes offline and comes back; nobody else", async () => {
    const { b, ac, bc, cc } = await scene();
    const before = Date.now();
    await bc.close();
    const off = await ac.next("presence");
    expect(off).toEqual({
      type: "presence",
      user: b.id,
      status: "offline",
      last_seen: expect.stringMatching(ISO),
    });
    expect(Date.parse(off.last_seen)).toBeGreaterThanOrEqual(before - 1000);

    // Back within the grace period: still a member, so a hears it.
    await connect(b, "b1");
    const on = await ac.next("presence");
    expect(on).toEqual({
      type: "presence",
      user: b.id,
      status: "online",
      last_seen: expect.stringMatching(ISO),
    });
    expect(Date.parse(on.last_seen)).toBeGreaterThanOrEqual(Date.parse(off.last_seen));

    // A second device of an online user changes nothing.
    await connect(b, "b2");
    expect(await ac.collect("presence", 200)).toEqual([]);
    // c shares no room with b: c heard nothing at all.
    expect(cc.all.filter((f) => f.type === "presence")).toEqual([]);
    // Neither presence frame names an address.
    expect(JSON.stringify([off, on])).not.toMatch(/127\.0\.0\.1|::1|localhost/);
  });

  it("says nothing to a user once the shared room is left", async () => {
    const { b, ac, bc, room } = await scene();
    await ac.request({ type: "room.leave", room }); // the owner leaves: the room goes
    await bc.next("room.deleted");
    await bc.close();
    expect(await ac.collect("presence", 300)).toEqual([]);
    await connect(b, "b1");
    expect(await ac.collect("presence", 200)).toEqual([]);
  });

  it("goes to every socket of a co-member and tells a user with two devices only of the last one", async () => {
    const [a, b] = [await hubUser(t.api), await hubUser(t.api)];
    const a1 = await connect(a, "a1");
    const a2 = await connect(a, "a2");
    const b1 = await connect(b, "b1");
    const b2 = await connect(b, "b2");
    const room = (await a1.request({ type: "room.create", name: "two" })).result.room.id;
    await b1.request({ type: "room.join", room });
    await a1.next("peer_joined");
    await b1.close();
    expect(await a1.collect("presence", 300)).toEqual([]);
    await b2.close();
    for (const x of [a1, a2])
      expect(await x.next("presence")).toMatchObject({ user: b.id, status: "offline" });
  });

  it("answers presence.query only about users who share a room", async () => {
    const { a, b, c, ac, bc, cc } = await scene();
    const unknown = uuidv7();
    const reply = await ac.request({ type: "presence.query", users: [b.id, c.id, unknown, b.id] });
    expect(reply.type).toBe("result");
    expect(reply.result).toEqual({
      presence: [{ user: b.id, status: "online", last_seen: expect.stringMatching(ISO) }],
    });

    // Offline but still seated (within the grace period): reported as offline.
    await bc.close();
    await ac.next("presence");
    const later = await ac.request({ type: "presence.query", users: [b.id] });
    expect(later.result.presence).toEqual([
      { user: b.id, status: "offline", last_seen: expect.stringMatching(ISO) },
    ]);

    // c knows nothing of a or b; a stranger's query looks like a query about nobody.
    const fromC = await cc.request({ type: "presence.query", users: [a.id, b.id, unknown] });
    expect(fromC.result).toEqual({ presence: [] });
    const empty = await cc.request({ type: "presence.query", users: [] });
    expect(empty.result).toEqual({ presence: [] });
  });

  it("rejects a malformed presence.query", async () => {
    const ac: HubClient = await connect(await hubUser(t.api));
    for (const users of [undefined, "x", ["not-an-id"], Array.from({ length: 257 }, () => uuidv7())]) {
      const reply = await ac.request({ type: "presence.query", users });
      expect([reply.type, reply.code]).toEqual(["error", "invalid_request"]);
    }
    expect((await ac.request({ type: "ping" })).type).toBe("pong");
  });
});
