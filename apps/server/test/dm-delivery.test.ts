import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Device, dmKit, expectVerifiable, type Person } from "./dm-fixtures.js";
import { backends } from "./helpers/backends.js";
import { clientPool, type HubClient, sleep } from "./helpers/hub-client.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

const WAIT = 8000;
const dev = (p: Person, i = 0) => p.devices[i] as Device;
const dmOf = (id: string) => (f: any) => f.type === "dm" && f.id === id;
const statusOf = (id: string, keyId: string, status: string) => (f: any) =>
  f.type === "dm.status" && f.id === id && f.device_key_id === keyId && f.status === status;

describe.each(backends())("direct messages: delivery on $name", (backend) => {
  let t: TestServer;
  let k: ReturnType<typeof dmKit>;
  const pool = clientPool();
  beforeAll(async () => {
    t = await startTestServer(backend, { UPGRADE_RATE_LIMIT: "1000", MESSAGE_BURST_LIMIT: "500" });
    k = dmKit(t.api);
  });
  afterEach(async () => pool.closeAll());
  afterAll(async () => t?.close());

  const copyRow = (messageId: string, keyId: string) =>
    t.server.database.db
      .selectFrom("direct_message_copies")
      .selectAll()
      .where("message_id", "=", messageId)
      .where("device_key_id", "=", keyId)
      .executeTakeFirstOrThrow();

  async function pair(aDevices: string[], bDevices: string[]) {
    const [a, b] = await Promise.all([k.person(aDevices), k.person(bDevices)]);
    await k.friends(a, b);
    return { a, b };
  }

  it("gives every socket of each device its own copy: the recipient's two devices and the sender's other one", async () => {
    const { a, b } = await pair(["a1", "a2"], ["b1", "b2"]);
    const a1 = await pool.connect(t.url, a, { device: "a1" });
    const a2 = await pool.connect(t.url, a, { device: "a2" });
    const b1 = await pool.connect(t.url, b, { device: "b1" });
    const b1again = await pool.connect(t.url, b, { device: "b1" });
    const b2 = await pool.connect(t.url, b, { device: "b2" });
    const body = k.envelope(a, dev(a), b);
    const reply = await a1.request({ type: "dm.send", ...body }, WAIT);
    const id = reply.result.id as string;

    const expected = [
      [b1, dev(b, 0)],
      [b1again, dev(b, 0)],
      [b2, dev(b, 1)],
      [a2, dev(a, 1)],
    ] as const;
    for (const [socket, device] of expected) {
      const frame = await socket.next(dmOf(id), WAIT);
      const copy = body.copies.find((c) => c.device_key_id === device.keyId);
      expect(frame).toEqual({
        type: "dm",
        id,
        from: a.id,
        to: b.id,
        sent_at: body.sent_at,
        client_msg_id: body.client_msg_id,
        signature: body.signature,
        signing_key_id: dev(a).signingKeyId,
        verification: "verified",
        hashes: expect.any(Array),
        copy,
      });
      expectVerifiable(frame, dev(a).signer);
    }
    // Nobody gets a second copy, and the sending socket only its reply.
    for (const [socket] of expected) expect(await socket.collect("dm", 100)).toEqual([]);
    expect(a1.all.filter((f) => f.type === "dm")).toEqual([]);
  });

  it("moves each copy pending → delivered → read, tells the sender's sockets, and never goes back", async () => {
    const { a, b } = await pair(["a1", "a2"], ["b1", "b2"]);
    const a1 = await pool.connect(t.url, a, { device: "a1" });
    const a2 = await pool.connect(t.url, a, { device: "a2" });
    const b1 = await pool.connect(t.url, b, { device: "b1" });
    const id = (await a1.request({ type: "dm.send", ...k.envelope(a, dev(a), b) }, WAIT)).result.id as string;
    await b1.next(dmOf(id), WAIT);
    const b1Key = dev(b, 0).keyId;
    const b2Key = dev(b, 1).keyId;

    expect((await b1.request({ type: "dm.ack", ids: [id] })).result).toEqual({ count: 1 });
    for (const s of [a1, a2]) {
      expect(await s.next(statusOf(id, b1Key, "delivered"), WAIT)).toEqual({
        type: "dm.status",
        id,
        device_key_id: b1Key,
        status: "delivered",
        at: expect.any(String),
      });
    }
    expect((await copyRow(id, b1Key)).status).toBe("delivered");
    expect((await b1.request({ type: "dm.read", ids: [id] })).result).toEqual({ count: 1 });
    await a1.next(statusOf(id, b1Key, "read"), WAIT);
    await a2.next(statusOf(id, b1Key, "read"), WAIT);

    // Backwards and sideways: nothing moves, nobody hears of it.
    expect((await b1.request({ type: "dm.ack", ids: [id] })).result).toEqual({ count: 0 });
    expect((await b1.request({ type: "dm.read", ids: [id] })).result).toEqual({ count: 0 });
    const row = await copyRow(id, b1Key);
    expect([row.status, row.delivered_at !== null, row.read_at !== null]).toEqual(["read", true, true]);

    // b2 was offline: read straight from pending is read (and delivered), one status.
    const b2 = await pool.connect(t.url, b, { device: "b2" });
    expect((await b2.request({ type: "dm.read", ids: [id] })).result).toEqual({ count: 1 });
    await a1.next(statusOf(id, b2Key, "read"), WAIT);
    const b2Row = await copyRow(id, b2Key);
    expect([b2Row.status, b2Row.delivered_at, b2Row.read_at]).toEqual([
      "read",
      b2Row.read_at,
      expect.any(String),
    ]);

    // The sender's own other device acknowledging its copy is not news to the sender.
    expect((await a2.request({ type: "dm.ack", ids: [id] })).result).toEqual({ count: 1 });
    await sleep(200);
    const statuses = a1.all.filter((f) => f.type === "dm.status");
    expect(statuses.map((f) => [f.device_key_id, f.status])).toEqual([
      [b1Key, "delivered"],
      [b1Key, "read"],
      [b2Key, "read"],
    ]);
    // Someone else's message ids change nothing for b.
    const other = await k.person(["o1"]);
    const oc = await pool.connect(t.url, other, { device: "o1" });
    expect((await oc.request({ type: "dm.ack", ids: [id] })).result).toEqual({ count: 0 });
  });

  it("stores and forwards to a device that was offline: oldest first, pages of 100, the next after an ack", async () => {
    const { a, b } = await pair(["a1"], ["b1"]);
    const sent: string[] = [];
    for (let i = 0; i < 150; i++) {
      const res = await k.post(a, k.envelope(a, dev(a), b, { clientMsgId: `m${i}` }));
      expect(res.status).toBe(201);
      sent.push(res.body.id);
    }
    const b1 = await pool.connect(t.url, b, { device: "b1" });
    const page1 = await takeDms(b1, 100);
    expect(page1.map((f) => f.id)).toEqual(sent.slice(0, 100));
    expect(page1.map((f) => f.client_msg_id)).toEqual(sent.slice(0, 100).map((_, i) => `m${i}`));
    expect(await b1.collect("dm", 300)).toEqual([]);

    // Half a page acknowledged: still waiting; the whole page: the rest follows.
    await b1.request({ type: "dm.ack", ids: sent.slice(0, 50) });
    expect(await b1.collect("dm", 200)).toEqual([]);
    await b1.request({ type: "dm.ack", ids: sent.slice(50, 100) });
    const page2 = await takeDms(b1, 50);
    expect(page2.map((f) => f.id)).toEqual(sent.slice(100));
    expect((await b1.request({ type: "dm.fetch" })).result).toEqual({ count: 0, more: false });

    // Not acknowledged: they come again on the next connection, and only they.
    await b1.close();
    const again = await pool.connect(t.url, b, { device: "b1" });
    expect((await takeDms(again, 50)).map((f) => f.id)).toEqual(sent.slice(100));
    expect(await again.collect("dm", 200)).toEqual([]);
  });

  it("sends the next page on dm.fetch without waiting for an ack", async () => {
    const { a, b } = await pair(["a1"], ["b1"]);
    const sent: string[] = [];
    for (let i = 0; i < 120; i++) sent.push((await k.post(a, k.envelope(a, dev(a), b))).body.id);
    const b1 = await pool.connect(t.url, b, { device: "b1" });
    expect((await takeDms(b1, 100)).map((f) => f.id)).toEqual(sent.slice(0, 100));
    const fetched = await b1.request({ type: "dm.fetch" });
    expect(fetched.result).toEqual({ count: 20, more: false });
    expect(b1.all.filter((f) => f.type === "dm").map((f) => f.id)).toEqual(sent);
  });

  it("a socket of a device without a message key gets no pages and may fetch nothing", async () => {
    const { a, b } = await pair(["a1"], ["b1"]);
    await k.post(a, k.envelope(a, dev(a), b));
    const other = await pool.connect(t.url, b, { device: "no-key" });
    expect((await other.request({ type: "dm.fetch" })).result).toEqual({ count: 0, more: false });
    expect((await other.request({ type: "dm.ack", ids: [dev(b).keyId] })).result).toEqual({ count: 0 });
    expect(other.all.filter((f) => f.type === "dm")).toEqual([]);
  });

  it("expires a pending copy whose key was deleted at the next cleanup, and tells the sender", async () => {
    const { a, b } = await pair(["a1"], ["b1", "b2"]);
    const a1 = await pool.connect(t.url, a, { device: "a1" });
    const id = (await k.post(a, k.envelope(a, dev(a), b))).body.id as string;
    expect((await t.api("DELETE", `/v1/auth/keys/${dev(b, 1).keyId}`, { token: b.token })).status).toBe(204);
    expect(await t.server.services.directMessages.expire()).toBeGreaterThanOrEqual(1);
    await a1.next(statusOf(id, dev(b, 1).keyId, "expired"), WAIT);
    const row = await copyRow(id, dev(b, 1).keyId);
    expect([row.status, row.enc, row.ciphertext]).toEqual(["expired", null, null]);
    expect((await copyRow(id, dev(b, 0).keyId)).status).toBe("pending");
  });
});

describe.each(backends())("direct messages: expiry on $name", (backend) => {
  let t: TestServer;
  let k: ReturnType<typeof dmKit>;
  const pool = clientPool();
  beforeAll(async () => {
    // 0.00003 days ≈ 2.6 s; the cleanup loop looks every 200 ms.
    t = await startTestServer(backend, { MESSAGE_TTL_DAYS: "0.00003", CLEANUP_INTERVAL: "200ms" });
    k = dmKit(t.api);
  });
  afterEach(async () => pool.closeAll());
  afterAll(async () => t?.close());

  it("expires copies not delivered within MESSAGE_TTL_DAYS, tells the sender, and keeps delivered ones", async () => {
    const [a, b] = await Promise.all([k.person(["a1"]), k.person(["b1", "b2"])]);
    await k.friends(a, b);
    const a1 = await pool.connect(t.url, a, { device: "a1" });
    const b1 = await pool.connect(t.url, b, { device: "b1" });
    const id = (await a1.request({ type: "dm.send", ...k.envelope(a, dev(a), b) }, WAIT)).result.id as string;
    await b1.next(dmOf(id), WAIT);
    await b1.request({ type: "dm.ack", ids: [id] });
    await a1.next(statusOf(id, dev(b, 0).keyId, "delivered"), WAIT);

    const expired = await a1.next(statusOf(id, dev(b, 1).keyId, "expired"), 10_000);
    expect(expired).toEqual({
      type: "dm.status",
      id,
      device_key_id: dev(b, 1).keyId,
      status: "expired",
      at: expect.any(String),
    });
    await sleep(500);
    expect(a1.all.filter((f) => f.type === "dm.status" && f.status === "expired")).toHaveLength(1);
    const rows = await t.server.database.db
      .selectFrom("direct_message_copies")
      .select(["device_key_id", "status", "ciphertext"])
      .where("message_id", "=", id)
      .execute();
    const byKey = Object.fromEntries(rows.map((r) => [r.device_key_id, r]));
    expect(byKey[dev(b, 0).keyId]).toMatchObject({ status: "delivered", ciphertext: expect.any(String) });
    expect(byKey[dev(b, 1).keyId]).toMatchObject({ status: "expired", ciphertext: null });
    const b2 = await pool.connect(t.url, b, { device: "b2" });
    expect(await b2.collect("dm", 300)).toEqual([]);
  });
});

/** Waits until `n` dm frames have arrived on `c` and returns them in arrival order. */
async function takeDms(c: HubClient, n: number): Promise<any[]> {
  const out: any[] = [];
  while (out.length < n) out.push(await c.next("dm", WAIT));
  return out;
}
