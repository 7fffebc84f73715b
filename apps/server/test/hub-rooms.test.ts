import { uuidv7 } from "@warren/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, type RunningServer, startServer } from "../src/index.js";
import { backends } from "./helpers/backends.js";
import {
  clientPool,
  connectHub,
  type HubClient,
  type HubUser,
  hubUser,
  sleep,
} from "./helpers/hub-client.js";
import { ed25519Pair } from "./helpers/keys.js";
import { type Api, startTestServer, type TestServer, uniqueName } from "./helpers/server.js";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const BASE = { UPGRADE_RATE_LIMIT: "1000" };

/** An account registered with an Ed25519 key, signed in by challenge and signature. */
async function keyUser(api: Api): Promise<HubUser & { publicKey: string }> {
  const pair = ed25519Pair();
  const username = uniqueName("k");
  const reg = await api("POST", "/v1/auth/register", { body: { username, public_key: pair.publicKey } });
  if (reg.status !== 201) throw new Error(JSON.stringify(reg.body));
  const c = await api("POST", "/v1/auth/challenge", { body: { username } });
  const v = await api("POST", "/v1/auth/verify", {
    body: {
      challenge_id: c.body.challenge_id,
      signature: pair.sign(Buffer.from(c.body.challenge, "base64")),
    },
  });
  if (v.status !== 200) throw new Error(JSON.stringify(v.body));
  return { id: reg.body.user.id, username, token: v.body.tokens.access_token, publicKey: pair.publicKey };
}

const expectError = (reply: any, code: string) => {
  expect(reply.type, JSON.stringify(reply)).toBe("error");
  expect(reply.code).toBe(code);
  expect(typeof reply.message).toBe("string");
};

describe.each(backends())("rooms on $name", (backend) => {
  let t: TestServer;
  const pool = clientPool();
  beforeAll(async () => {
    t = await startTestServer(backend, {
      ...BASE,
      ROOM_GRACE_PERIOD: "1s",
      ROOM_KICK_BAN: "1s",
      ROOM_PASSWORD_MAX_FAILURES: "3",
    });
  });
  afterEach(async () => pool.closeAll());
  afterAll(async () => t?.close());

  const user = () => hubUser(t.api);
  const connect = (u: HubUser, device?: string) => pool.connect(t.url, u, device ? { device } : {});

  /** owner creates a room (fields as given); every other user joins it. */
  async function roomWith(owner: HubClient, others: HubClient[], fields: Record<string, unknown> = {}) {
    const created = await owner.request({ type: "room.create", name: "room", ...fields });
    expect(created.type, JSON.stringify(created)).toBe("result");
    const room = created.result.room.id as string;
    for (const o of others) {
      const joined = await o.request({ type: "room.join", room, password: fields.password });
      expect(joined.type, JSON.stringify(joined)).toBe("result");
    }
    // Everyone has heard every join before the test goes on.
    for (const [i, o] of others.entries()) {
      for (const earlier of [owner, ...others.slice(0, i)]) {
        await earlier.next(
          (f) => f.type === "peer_joined" && f.room === room && f.user === o.welcome.user.id,
        );
      }
    }
    return room;
  }

  it("creates a room: the creator owns it, no owner_key after a password sign-in", async () => {
    const a = await user();
    const ac = await connect(a);
    const before = Date.now();
    const reply = await ac.request({ type: "room.create", name: "lobby" });
    expect(reply).toEqual({
      type: "result",
      re: reply.re,
      result: {
        room: {
          id: expect.stringMatching(/^[0-9a-f-]{36}$/),
          name: "lobby",
          owner: a.id,
          owner_key: null,
          max_members: 50,
          persistent: false,
          has_password: false,
          created_at: expect.stringMatching(ISO),
        },
        members: [{ user: a.id, username: a.username, online: true }],
      },
    });
    expect(Date.parse(reply.result.room.created_at)).toBeGreaterThanOrEqual(before - 1000);

    const full = await ac.request({
      type: "room.create",
      name: "private",
      password: "hunter22",
      max_members: 7,
      persistent: true,
    });
    expect(full.result.room).toMatchObject({
      name: "private",
      max_members: 7,
      persistent: true,
      has_password: true,
    });
    expect(JSON.stringify(full)).not.toContain("hunter22");
  });

  it("records the owner's Ed25519 key when the creator signed in by key", async () => {
    const k = await keyUser(t.api);
    const kc = await connect(k);
    const reply = await kc.request({ type: "room.create", name: "keyed" });
    expect(reply.result.room.owner).toBe(k.id);
    expect(reply.result.room.owner_key).toBe(k.publicKey);
    const b = await connect(await user());
    const joined = await b.request({ type: "room.join", room: reply.result.room.id });
    expect(joined.result.room.owner_key).toBe(k.publicKey);
  });

  it("refuses a bad room.create", async () => {
    const ac = await connect(await user());
    expectError(await ac.request({ type: "room.create", name: "" }), "invalid_request");
    expectError(await ac.request({ type: "room.create" }), "invalid_request");
    expectError(await ac.request({ type: "room.create", name: "x", max_members: 1 }), "invalid_request");
    expectError(await ac.request({ type: "room.create", name: "x", max_members: 51 }), "invalid_request");
    expect((await ac.request({ type: "room.list" })).result.rooms).toEqual([]);
  });

  it("joins by room.join and by subscribe: members listed, existing members hear peer_joined", async () => {
    const [a, b, c] = [await user(), await user(), await user()];
    const [ac, bc, cc] = [await connect(a), await connect(b), await connect(c)];
    const room = (await ac.request({ type: "room.create", name: "j" })).result.room.id;

    const joined = await bc.request({ type: "room.join", room });
    expect(joined.result.room).toMatchObject({ id: room, name: "j", owner: a.id });
    expect(joined.result.members).toEqual(
      expect.arrayContaining([
        { user: a.id, username: a.username, online: true },
        { user: b.id, username: b.username, online: true },
      ]),
    );
    expect(joined.result.members).toHaveLength(2);
    expect(await ac.next("peer_joined")).toEqual({
      type: "peer_joined",
      room,
      user: b.id,
      username: b.username,
    });

    const sub = await cc.request({ type: "subscribe", room });
    expect(sub.type).toBe("result");
    expect(sub.result.members.map((m: any) => m.user).sort()).toEqual([a.id, b.id, c.id].sort());
    for (const x of [ac, bc]) {
      expect(await x.next("peer_joined")).toEqual({
        type: "peer_joined",
        room,
        user: c.id,
        username: c.username,
      });
    }
    // Joining again is harmless and tells nobody.
    expect((await cc.request({ type: "room.join", room })).type).toBe("result");
    expect(await ac.collect("peer_joined", 150)).toEqual([]);
    expect(cc.all.filter((f) => f.type === "peer_joined")).toEqual([]);
  });

  it("answers not_found for a room that does not exist", async () => {
    const ac = await connect(await user());
    for (const type of ["room.join", "subscribe", "room.leave", "room.rename", "room.delete"]) {
      expectError(await ac.request({ type, room: uuidv7(), name: "n" }), "not_found");
    }
  });

  it("checks the room password: invalid_password, then rate_limited after the allowed failures", async () => {
    const [a, b, c] = [await user(), await user(), await user()];
    const [ac, bc, cc] = [await connect(a), await connect(b), await connect(c)];
    const room = (await ac.request({ type: "room.create", name: "pw", password: "open sesame" })).result.room
      .id;
    expectError(await bc.request({ type: "room.join", room }), "invalid_password");
    expectError(await bc.request({ type: "room.join", room, password: "wrong" }), "invalid_password");
    expectError(await bc.request({ type: "subscribe", room, password: "also wrong" }), "invalid_password");
    // ROOM_PASSWORD_MAX_FAILURES=3: from now on even the right one is refused.
    expectError(await bc.request({ type: "room.join", room, password: "open sesame" }), "rate_limited");
    expectError(await bc.request({ type: "room.join", room, password: "wrong" }), "rate_limited");
    expect(ac.all.filter((f) => f.type === "peer_joined")).toEqual([]);
    // Another user is not affected, and the right password works.
    expectError(await cc.request({ type: "room.join", room, password: "nope" }), "invalid_password");
    const ok = await cc.request({ type: "room.join", room, password: "open sesame" });
    expect(ok.result.room.has_password).toBe(true);
    expect(ok.result.members).toHaveLength(2);
    // The owner needs no password to come back.
    expect((await ac.request({ type: "room.join", room })).type).toBe("result");
  });

  it("refuses a join to a full room with room_full", async () => {
    const [ac, bc, cc] = [
      await connect(await user()),
      await connect(await user()),
      await connect(await user()),
    ];
    const room = await roomWith(ac, [bc], { max_members: 2 });
    expectError(await cc.request({ type: "room.join", room }), "room_full");
    expectError(await cc.request({ type: "subscribe", room }), "room_full");
    // A seat freed is a seat taken.
    await bc.request({ type: "room.leave", room });
    expect((await cc.request({ type: "room.join", room })).type).toBe("result");
    expectError(await bc.request({ type: "room.join", room }), "room_full");
  });

  it("leaves by room.leave and unsubscribe: the others hear peer_left left, the leaver hears no more", async () => {
    const [a, b, c] = [await user(), await user(), await user()];
    const [ac, bc, cc] = [await connect(a), await connect(b), await connect(c)];
    const room = await roomWith(ac, [bc, cc]);

    const left = await bc.request({ type: "room.leave", room });
    expect(left.type).toBe("result");
    for (const x of [ac, cc])
      expect(await x.next("peer_left")).toEqual({ type: "peer_left", room, user: b.id, reason: "left" });

    expect((await cc.request({ type: "unsubscribe", room })).type).toBe("result");
    expect(await ac.next("peer_left")).toEqual({ type: "peer_left", room, user: c.id, reason: "left" });

    await ac.request({ type: "broadcast", room, payload: "after" });
    expect(await bc.collect("broadcast", 150)).toEqual([]);
    expect(cc.all.filter((f) => f.type === "broadcast")).toEqual([]);
    // Leaving a room one is not in: not_found.
    expectError(await bc.request({ type: "room.leave", room }), "not_found");
    expect((await bc.request({ type: "room.list" })).result.rooms).toEqual([]);
  });

  it("lets only the owner rename, kick and delete: members get forbidden", async () => {
    const [a, b, c] = [await user(), await user(), await user()];
    const [ac, bc, cc] = [await connect(a), await connect(b), await connect(c)];
    const room = await roomWith(ac, [bc]);
    for (const frame of [
      { type: "room.rename", room, name: "mine now" },
      { type: "room.kick", room, user: a.id },
      { type: "room.delete", room },
    ]) {
      expectError(await bc.request(frame), "forbidden");
      expectError(await cc.request(frame), "forbidden"); // an outsider too
    }
    // Nothing changed.
    const list = await ac.request({ type: "room.list" });
    expect(list.result.rooms.map((r: any) => [r.id, r.name])).toEqual([[room, "room"]]);
    expect(ac.all.filter((f) => ["room.renamed", "room.deleted", "peer_left"].includes(f.type))).toEqual([]);
  });

  it("renames: every member hears room.renamed", async () => {
    const [ac, bc] = [await connect(await user()), await connect(await user())];
    const room = await roomWith(ac, [bc]);
    const reply = await ac.request({ type: "room.rename", room, name: "renamed" });
    expect(reply.result.room).toMatchObject({ id: room, name: "renamed" });
    for (const x of [ac, bc])
      expect(await x.next("room.renamed")).toEqual({ type: "room.renamed", room, name: "renamed" });
    expect((await bc.request({ type: "room.list" })).result.rooms[0].name).toBe("renamed");
  });

  it("kicks: the user hears kicked, others peer_left kicked, rejoin is banned until ROOM_KICK_BAN passes", async () => {
    const [a, b, c] = [await user(), await user(), await user()];
    const [ac, bc, cc] = [await connect(a), await connect(b), await connect(c)];
    const b2 = await connect(b, "b-second");
    const room = await roomWith(ac, [bc, cc]);
    await b2.next((f) => f.type === "peer_joined" && f.user === c.id);

    const before = Date.now();
    const reply = await ac.request({ type: "room.kick", room, user: b.id });
    expect(reply.result).toMatchObject({ room, user: b.id });
    for (const x of [bc, b2]) {
      const kicked = await x.next("kicked");
      expect(kicked).toEqual({ type: "kicked", room, by: a.id, until: expect.stringMatching(ISO) });
      const ms = Date.parse(kicked.until) - before;
      expect(ms).toBeGreaterThan(500);
      expect(ms).toBeLessThan(3000);
    }
    for (const x of [ac, cc])
      expect(await x.next("peer_left")).toEqual({ type: "peer_left", room, user: b.id, reason: "kicked" });

    // Out of the room: no broadcasts, no room in the list, and no way back yet.
    await cc.request({ type: "broadcast", room, payload: "bye" });
    await ac.next("broadcast");
    expect(await bc.collect("broadcast", 100)).toEqual([]);
    expect((await bc.request({ type: "room.list" })).result.rooms).toEqual([]);
    const banned = await bc.request({ type: "room.join", room });
    expectError(banned, "banned");
    expectError(await b2.request({ type: "subscribe", room }), "banned");
    expectError(await ac.request({ type: "room.kick", room, user: a.id }), "invalid_request");

    // ROOM_KICK_BAN=1s.
    t.clock.advance(Math.max(0, Date.parse(reply.result.until) - t.clock.now() + 150));
    const back = await bc.request({ type: "room.join", room });
    expect(back.type, JSON.stringify(back)).toBe("result");
    expect(await cc.next("peer_joined")).toMatchObject({ user: b.id });
  });

  it("deletes: every member hears room.deleted, and the room is gone", async () => {
    const [ac, bc, cc] = [
      await connect(await user()),
      await connect(await user()),
      await connect(await user()),
    ];
    const room = await roomWith(ac, [bc]);
    expect((await ac.request({ type: "room.delete", room })).type).toBe("result");
    for (const x of [ac, bc])
      expect(await x.next("room.deleted")).toEqual({ type: "room.deleted", room, reason: "deleted" });
    expectError(await cc.request({ type: "room.join", room }), "not_found");
    expectError(await bc.request({ type: "broadcast", room, payload: 1 }), "not_found");
    expect((await bc.request({ type: "room.list" })).result.rooms).toEqual([]);
    expect((await ac.request({ type: "room.list" })).result.rooms).toEqual([]);
  });

  it("deletes a non-persistent room when its owner leaves (owner_left)", async () => {
    const [ac, bc, cc] = [
      await connect(await user()),
      await connect(await user()),
      await connect(await user()),
    ];
    const room = await roomWith(ac, [bc, cc]);
    expect((await ac.request({ type: "room.leave", room })).type).toBe("result");
    for (const x of [bc, cc])
      expect(await x.next("room.deleted")).toEqual({ type: "room.deleted", room, reason: "owner_left" });
    expectError(await bc.request({ type: "room.join", room }), "not_found");
    expect((await cc.request({ type: "room.list" })).result.rooms).toEqual([]);
  });

  it("keeps a persistent room when its owner leaves", async () => {
    const [a, b, c] = [await user(), await user(), await user()];
    const [ac, bc, cc] = [await connect(a), await connect(b), await connect(c)];
    const room = await roomWith(ac, [bc, cc], { persistent: true });
    expect((await ac.request({ type: "room.leave", room })).type).toBe("result");
    for (const x of [bc, cc])
      expect(await x.next("peer_left")).toEqual({ type: "peer_left", room, user: a.id, reason: "left" });
    expect(await bc.collect("room.deleted", 150)).toEqual([]);
    await bc.request({ type: "broadcast", room, payload: "still here" });
    expect((await cc.next("broadcast")).payload).toBe("still here");
    // The owner can come back, and is still the owner.
    const back = await ac.request({ type: "room.join", room });
    expect(back.result.room.owner).toBe(a.id);
    expect((await ac.request({ type: "room.rename", room, name: "kept" })).type).toBe("result");
  });

  it("keeps the seat of a member who reconnects within ROOM_GRACE_PERIOD", async () => {
    const [a, b] = [await user(), await user()];
    const ac = await connect(a);
    const bc = await connect(b, "b-dev");
    const room = await roomWith(ac, [bc]);
    await bc.close();
    await sleep(300);
    const again = await connect(b, "b-dev");
    // No rejoin: the broadcast reaches the new socket.
    await ac.request({ type: "broadcast", room, payload: { hello: "again" } });
    expect(await again.next("broadcast")).toMatchObject({ room, from: a.id, payload: { hello: "again" } });
    // Past the grace period: still no peer_left, still a member.
    expect(await ac.collect("peer_left", 1100)).toEqual([]);
    expect((await again.request({ type: "room.list" })).result.rooms.map((r: any) => r.id)).toEqual([room]);
    await ac.request({ type: "broadcast", room, payload: 2 });
    expect((await again.next("broadcast")).payload).toBe(2);
  });

  it("lets a member who stays away go after ROOM_GRACE_PERIOD (peer_left disconnected)", async () => {
    const [a, b] = [await user(), await user()];
    const ac = await connect(a);
    const bc = await connect(b);
    const room = await roomWith(ac, [bc]);
    await bc.close();
    const since = Date.now();
    const left = await ac.next("peer_left", 4000);
    const elapsed = Date.now() - since;
    expect(left).toEqual({ type: "peer_left", room, user: b.id, reason: "disconnected" });
    expect(elapsed).toBeGreaterThanOrEqual(800);
    expect(elapsed).toBeLessThan(3000);
    // The seat is gone: coming back, b is in no room.
    const back = await connect(b);
    expect((await back.request({ type: "room.list" })).result.rooms).toEqual([]);
  });

  it("deletes a non-persistent room whose owner stays away past the grace period", async () => {
    const [a, b] = [await user(), await user()];
    const ac = await connect(a);
    const bc = await connect(b);
    const room = await roomWith(ac, [bc]);
    await ac.close();
    expect(await bc.next("room.deleted", 4000)).toEqual({ type: "room.deleted", room, reason: "owner_left" });
    expectError(await bc.request({ type: "room.join", room }), "not_found");
  });

  it("keeps the seat while another socket of the member stays", async () => {
    const [a, b] = [await user(), await user()];
    const ac = await connect(a);
    const b1 = await connect(b, "one");
    const b2 = await connect(b, "two");
    const room = await roomWith(ac, [b1]);
    await b1.close();
    expect(await ac.collect((f) => f.type === "peer_left" || f.type === "presence", 1300)).toEqual([]);
    await ac.request({ type: "broadcast", room, payload: "b2?" });
    expect((await b2.next("broadcast")).payload).toBe("b2?");
  });

  it("lists the rooms the user is in", async () => {
    const [a, b] = [await user(), await user()];
    const [ac, bc] = [await connect(a), await connect(b)];
    const mine = (await ac.request({ type: "room.create", name: "mine" })).result.room.id;
    const theirs = (await bc.request({ type: "room.create", name: "theirs" })).result.room.id;
    const other = (await bc.request({ type: "room.create", name: "other" })).result.room.id;
    await ac.request({ type: "room.join", room: theirs });
    const list = await ac.request({ type: "room.list" });
    expect(list.result.rooms.map((r: any) => r.id).sort()).toEqual([mine, theirs].sort());
    const byId = Object.fromEntries(list.result.rooms.map((r: any) => [r.id, r]));
    expect(byId[theirs]).toMatchObject({ name: "theirs", owner: b.id, has_password: false });
    expect(JSON.stringify(list)).not.toContain(other);
  });

  it("broadcasts to every other socket in the room, not back to the sender's socket", async () => {
    const [a, b, c] = [await user(), await user(), await user()];
    const a1 = await connect(a, "a1");
    const a2 = await connect(a, "a2");
    const bc = await connect(b, "b1");
    const cc = await connect(c, "c1");
    const outsider = await connect(await user());
    const room = await roomWith(a1, [bc, cc]);
    const payload = { text: "hi all", n: [1, 2, { x: null }] };
    const reply = await a1.request({ type: "broadcast", room, payload });
    expect(reply).toEqual({ type: "result", re: reply.re, result: { room } });
    for (const x of [a2, bc, cc])
      expect(await x.next("broadcast")).toEqual({
        type: "broadcast",
        room,
        from: a.id,
        from_device: "a1",
        payload,
      });
    expect(await a1.collect("broadcast", 150)).toEqual([]);
    expect(outsider.all.filter((f) => f.type === "broadcast")).toEqual([]);

    // Without an id: delivered, no reply.
    const before = bc.all.length;
    bc.send({ type: "broadcast", room, payload: "quiet" });
    expect(await cc.next("broadcast")).toMatchObject({ from: b.id, from_device: "b1", payload: "quiet" });
    expect((await bc.request({ type: "ping" })).type).toBe("pong");
    expect(bc.all.slice(before).filter((f) => f.type === "result" || f.type === "error")).toEqual([]);

    expectError(await outsider.request({ type: "broadcast", room, payload: "let me in" }), "not_found");
    expect(await cc.collect((f) => f.type === "broadcast" && f.payload === "let me in", 150)).toEqual([]);
  });
});

describe.each(backends())("room expiry on $name", (backend) => {
  let t: TestServer;
  const pool = clientPool();
  beforeAll(async () => {
    t = await startTestServer(backend, { ...BASE, ROOM_EXPIRY_DAYS: "1" });
  });
  afterEach(async () => pool.closeAll());
  afterAll(async () => t?.close());

  it("removes an idle room (room.deleted expired) and counts it in /stats", async () => {
    const [a, b] = [await hubUser(t.api), await hubUser(t.api)];
    const ac = await pool.connect(t.url, a);
    const bc = await pool.connect(t.url, b);
    const created = await ac.request({ type: "room.create", name: "fleeting", persistent: true });
    const room = created.result.room.id;
    expect((await bc.request({ type: "room.join", room })).type).toBe("result");
    // A day and a second later, the next cleanup removes it.
    t.clock.advance(86_401_000);
    await t.server.maintenance.run();
    const expected = { type: "room.deleted", room, reason: "expired" };
    expect(await ac.next("room.deleted", 5000)).toEqual(expected);
    expect(await bc.next("room.deleted", 5000)).toEqual(expected);

    expectError(await bc.request({ type: "room.join", room }), "not_found");
    expect((await ac.request({ type: "room.list" })).result.rooms).toEqual([]);
    const stats = await t.api("GET", "/stats");
    expect(stats.status).toBe(200);
    expect(stats.body.cleanup.runs).toBeGreaterThanOrEqual(1);
    expect(stats.body.cleanup.rooms_removed).toBeGreaterThanOrEqual(1);
    expect(stats.body.rooms.stored).toBe(0);
  });
});

describe.each(backends())("rooms across a restart on $name", (backend) => {
  let t: TestServer;
  let second: RunningServer | undefined;
  const open: HubClient[] = [];
  beforeAll(async () => {
    t = await startTestServer(backend, BASE);
  });
  afterAll(async () => {
    await Promise.all(open.map((c) => c.close()));
    await second?.close();
    await t?.close();
  });

  it("keeps a persistent room in the database: joined by id on a new server over the same database", async () => {
    const [a, b] = [await hubUser(t.api), await hubUser(t.api)];
    const ac = await connectHub(t.url, a.token);
    open.push(ac);
    const created = await ac.request({
      type: "room.create",
      name: "durable",
      password: "kept secret",
      max_members: 9,
      persistent: true,
    });
    const info = created.result.room;
    await ac.close();
    await t.server.close();

    const config = loadConfig({
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "silent",
      DATA_DIR: t.database.dataDir,
      DB_PATH: t.database.dbPath,
      DATABASE_URL: t.database.databaseUrl,
      ...BASE,
    });
    second = await startServer(config);
    const url = `http://127.0.0.1:${second.port}`;
    const bc = await connectHub(url, b.token);
    open.push(bc);
    expectError(
      await bc.request({ type: "room.join", room: info.id, password: "guess" }),
      "invalid_password",
    );
    const joined = await bc.request({ type: "room.join", room: info.id, password: "kept secret" });
    expect(joined.type, JSON.stringify(joined)).toBe("result");
    expect(joined.result.room).toEqual(info);
    const ac2 = await connectHub(url, a.token);
    open.push(ac2);
    const back = await ac2.request({ type: "room.join", room: info.id });
    expect(back.result.room.owner).toBe(a.id);
    expect(await bc.next("peer_joined")).toMatchObject({ room: info.id, user: a.id });
  });
});
