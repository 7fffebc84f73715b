import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { backends } from "./helpers/backends.js";
import { clientPool, hubUser, nextId } from "./helpers/hub-client.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

describe.each(backends())("hub ordering and room edges on $name", (backend) => {
  let t: TestServer;
  const pool = clientPool();
  beforeAll(async () => {
    t = await startTestServer(backend, { UPGRADE_RATE_LIMIT: "1000" });
  });
  afterEach(() => pool.closeAll());
  afterAll(async () => t?.close());

  it("handles a socket's frames in the order sent: join (slow, with a password) then signal", async () => {
    const owner = await hubUser(t.api);
    const guest = await hubUser(t.api);
    const a = await pool.connect(t.url, owner);
    const b = await pool.connect(t.url, guest);
    const created = await a.request({ type: "room.create", name: "ordered", password: "open sesame" });
    const room = created.result.room.id;
    // No waiting between the frames: the join's argon2 check is still running when the
    // signal arrives, and the signal must see the membership the join created.
    const ids = [nextId(), nextId(), nextId()];
    b.send({ type: "room.join", id: ids[0], room, password: "open sesame" });
    b.send({ type: "signal", id: ids[1], to: owner.id, payload: { n: 1 } });
    b.send({ type: "room.list", id: ids[2] });
    const replies = [];
    for (const id of ids) replies.push(await b.next((f) => f.re === id, 5000));
    expect(replies.map((r) => r.type)).toEqual(["result", "result", "result"]);
    expect(replies[1].result).toEqual({ delivered: true });
    expect(replies[2].result.rooms.map((r: { id: string }) => r.id)).toEqual([room]);
    const signal = await a.next("signal", 5000);
    expect(signal.payload).toEqual({ n: 1 });
    // Replies came back in the order the frames went out.
    const order = b.all.filter((f) => ids.includes(f.re)).map((f) => f.re);
    expect(order).toEqual(ids);
  });

  it("refuses to kick someone who is not in the room, and bans nobody", async () => {
    const owner = await hubUser(t.api);
    const stranger = await hubUser(t.api);
    const a = await pool.connect(t.url, owner);
    const s = await pool.connect(t.url, stranger);
    const room = (await a.request({ type: "room.create", name: "k" })).result.room.id;
    const kick = await a.request({ type: "room.kick", room, user: stranger.id });
    expect([kick.type, kick.code]).toEqual(["error", "not_found"]);
    const join = await s.request({ type: "room.join", room });
    expect(join.type).toBe("result");
    expect(s.all.some((f) => f.type === "kicked")).toBe(false);
  });

  it("answers too many wrong room passwords with rate_limited and retry_after_ms", async () => {
    const other = await startTestServer(backend, {
      UPGRADE_RATE_LIMIT: "1000",
      ROOM_PASSWORD_MAX_FAILURES: "2",
    });
    const local = clientPool();
    try {
      const owner = await hubUser(other.api);
      const guest = await hubUser(other.api);
      const a = await local.connect(other.url, owner);
      const b = await local.connect(other.url, guest);
      const room = (await a.request({ type: "room.create", name: "pw", password: "right one" })).result.room
        .id;
      for (let i = 0; i < 2; i++) {
        expect((await b.request({ type: "room.join", room, password: "wrong" })).code).toBe(
          "invalid_password",
        );
      }
      const limited = await b.request({ type: "room.join", room, password: "right one" });
      expect(limited.code).toBe("rate_limited");
      expect(limited.retry_after_ms).toBeGreaterThan(0);
      expect(limited.message).not.toContain("sign-in");
    } finally {
      await local.closeAll();
      await other.close();
    }
  });

  it("keeps persistent rooms and drops the others when the server shuts down", async () => {
    const first = await startTestServer(backend, { UPGRADE_RATE_LIMIT: "1000" });
    const owner = await hubUser(first.api);
    const a = await pool.connect(first.url, owner);
    const kept = (await a.request({ type: "room.create", name: "kept", persistent: true })).result.room.id;
    const gone = (await a.request({ type: "room.create", name: "gone" })).result.room.id;
    await first.server.close();
    try {
      // The server closed its database; read through a fresh connection.
      const { createDatabase } = await import("../src/storage/create-database.js");
      const db = createDatabase({ databaseUrl: first.database.databaseUrl, dbPath: first.database.dbPath });
      try {
        const ids = (await db.db.selectFrom("rooms").select("id").execute()).map((r) => r.id);
        expect(ids).toContain(kept);
        expect(ids).not.toContain(gone);
      } finally {
        await db.close();
      }
    } finally {
      await first.database.drop();
    }
  });
});
