import { uuidv7 } from "@warren/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Device, dmKit, opaqueCopy, type Person } from "./dm-fixtures.js";
import { backends } from "./helpers/backends.js";
import { clientPool } from "./helpers/hub-client.js";
import { PASSWORD, startTestServer, type TestServer } from "./helpers/server.js";

const dev = (p: Person, i = 0) => p.devices[i] as Device;

describe.each(backends())("direct messages: history and your data on $name", (backend) => {
  let t: TestServer;
  let k: ReturnType<typeof dmKit>;
  const pool = clientPool();
  beforeAll(async () => {
    t = await startTestServer(backend, { UPGRADE_RATE_LIMIT: "1000" });
    k = dmKit(t.api);
  });
  afterEach(async () => pool.closeAll());
  afterAll(async () => t?.close());

  const history = (p: Person, query: Record<string, string>) =>
    t.api("GET", `/v1/messages/direct?${new URLSearchParams(query)}`, { token: p.token });

  /** Every page of a history, following next_cursor. */
  async function allPages(p: Person, query: Record<string, string>) {
    const out: any[] = [];
    let before: string | undefined;
    for (;;) {
      const res = await history(p, { ...query, ...(before ? { before } : {}) });
      expect(res.status).toBe(200);
      out.push(...res.body.messages);
      if (res.body.next_cursor === null) return out;
      before = res.body.next_cursor;
    }
  }

  /** a → b three times (from a1), b → a twice (from b1), a → c once. */
  async function conversation() {
    const [a, b, c] = await Promise.all([k.person(["a1", "a2"]), k.person(["b1", "b2"]), k.person(["c1"])]);
    await k.friends(a, b, c);
    const ids: string[] = [];
    const bodies: any[] = [];
    for (const [from, to] of [
      [a, b],
      [b, a],
      [a, b],
      [b, a],
      [a, b],
    ] as const) {
      const body = k.envelope(from, dev(from), to);
      bodies.push(body);
      ids.push((await k.post(from, body)).body.id);
    }
    await k.post(a, k.envelope(a, dev(a), c));
    return { a, b, c, ids, bodies };
  }

  it("pages my device key's copies of one conversation, newest first, and nothing else", async () => {
    const { a, b, c, ids, bodies } = await conversation();
    // b1 sent b's two messages, so it holds copies of a's three only; b2 holds all five.
    const b1 = await allPages(b, { with: a.id, device_key_id: dev(b, 0).keyId, limit: "2" });
    expect(b1.map((m) => m.id)).toEqual([ids[4], ids[2], ids[0]]);
    expect(b1.every((m) => m.copy.device_key_id === dev(b, 0).keyId)).toBe(true);
    const b2 = await allPages(b, { with: a.id, device_key_id: dev(b, 1).keyId, limit: "2" });
    expect(b2.map((m) => m.id)).toEqual([...ids].reverse());
    const newest = bodies[4];
    expect(b2[0]).toEqual({
      id: ids[4],
      from: a.id,
      to: b.id,
      sent_at: newest.sent_at,
      client_msg_id: newest.client_msg_id,
      signature: newest.signature,
      signing_key_id: dev(a).signingKeyId,
      verification: "verified",
      hashes: expect.any(Array),
      copy: newest.copies.find((x: { device_key_id: string }) => x.device_key_id === dev(b, 1).keyId),
      status: "pending",
    });
    const page = await history(b, { with: a.id, device_key_id: dev(b, 1).keyId, limit: "2" });
    expect([page.body.messages.length, page.body.next_cursor]).toEqual([2, ids[3]]);

    // Status shows as it moves.
    const bc = await pool.connect(t.url, b, { device: "b2" });
    await bc.request({ type: "dm.read", ids: [ids[4]] });
    const after = await history(b, { with: a.id, device_key_id: dev(b, 1).keyId, limit: "1" });
    expect(after.body.messages[0].status).toBe("read");

    // Another conversation, someone else's key, a bad limit.
    expect((await allPages(a, { with: c.id, device_key_id: dev(a, 1).keyId })).map((m) => m.to)).toEqual([
      c.id,
    ]);
    expect(await allPages(b, { with: c.id, device_key_id: dev(b, 1).keyId })).toEqual([]);
    for (const key of [dev(a).keyId, dev(b).signingKeyId, uuidv7()]) {
      const res = await history(b, { with: a.id, device_key_id: key });
      expect([res.status, res.body.error.code]).toEqual([404, "not_found"]);
    }
    expect((await history(b, { with: a.id, device_key_id: dev(b).keyId, limit: "101" })).status).toBe(400);
    expect((await history(b, { with: a.id })).status).toBe(400);
  });

  it("exports my messages' metadata and my blocks, never a ciphertext", async () => {
    const { a, b, c, ids, bodies } = await conversation();
    expect((await t.api("POST", `/v1/users/${c.id}/block`, { token: b.token })).status).toBe(201);
    const res = await t.api("GET", "/v1/me/export", { token: b.token });
    expect(res.status).toBe(200);
    const data = res.body;
    expect(data.direct_messages.map((m: { id: string }) => m.id)).toEqual(ids);
    expect(data.direct_messages[0]).toEqual({
      id: ids[0],
      from: a.id,
      to: b.id,
      client_msg_id: bodies[0].client_msg_id,
      sent_at: bodies[0].sent_at,
      received_at: expect.any(String),
      verification: "verified",
      copies: [dev(b, 0), dev(b, 1)]
        .map((d) => ({
          device_key_id: d.keyId,
          device: d.name,
          status: "pending",
          delivered_at: null,
          read_at: null,
        }))
        .sort((x, y) => (x.device_key_id < y.device_key_id ? -1 : 1)),
    });
    expect(data.blocks).toEqual([{ user_id: c.id, created_at: expect.any(String) }]);
    const text = JSON.stringify(data);
    for (const body of bodies) for (const copy of body.copies) expect(text).not.toContain(copy.ciphertext);
    expect((await t.api("GET", "/v1/me/export", { token: c.token })).body.blocks).toEqual([]);
  });

  it("deleting an account removes its copies and blocks; the other party keeps theirs", async () => {
    const { a, b, ids } = await conversation();
    // Sealed for b's devices only (copies for the sender's other devices are optional).
    const onlyB = b.devices.map((d) => opaqueCopy(d.keyId));
    const lonely = (await k.post(a, k.envelope(a, dev(a), b, { copies: onlyB }))).body;
    expect(lonely.id).toBeDefined();
    expect((await t.api("POST", `/v1/users/${b.id}/block`, { token: a.token })).status).toBe(201);
    expect((await t.api("POST", `/v1/users/${a.id}/block`, { token: b.token })).status).toBe(201);

    expect((await t.api("DELETE", "/v1/me", { token: b.token, body: { password: PASSWORD } })).status).toBe(
      204,
    );
    const db = t.server.database.db;
    const left = (table: "direct_message_copies" | "user_blocks", column: "user_id" | "blocked_id") =>
      db.selectFrom(table).select(column).where(column, "=", b.id).execute();
    expect(await left("direct_message_copies", "user_id")).toEqual([]);
    expect(await left("user_blocks", "user_id")).toEqual([]);
    expect(await left("user_blocks", "blocked_id")).toEqual([]);
    // The message only b held copies of is gone; a's copies of the rest stay, naming b's former id.
    expect(await db.selectFrom("direct_messages").select("id").where("id", "=", lonely.id).execute()).toEqual(
      [],
    );
    const kept = await allPages(a, { with: b.id, device_key_id: dev(a, 1).keyId });
    expect(kept.map((m) => m.id)).toEqual([...ids].reverse());
    expect(kept[0].to).toBe(b.id);
  });
});
