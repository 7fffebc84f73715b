import { uuidv7 } from "@warren/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Device, dmKit, hashesOf, opaqueCopy, type Person } from "./dm-fixtures.js";
import { backends } from "./helpers/backends.js";
import { clientPool, type HubClient } from "./helpers/hub-client.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

const WAIT = 8000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe.each(backends())("direct messages: sending on $name", (backend) => {
  let t: TestServer;
  let k: ReturnType<typeof dmKit>;
  const pool = clientPool();
  beforeAll(async () => {
    t = await startTestServer(backend, { UPGRADE_RATE_LIMIT: "1000", MESSAGE_BURST_LIMIT: "500" });
    k = dmKit(t.api);
  });
  afterEach(async () => pool.closeAll());
  afterAll(async () => t?.close());

  const db = () => t.server.database.db;
  const storedBy = (sender: string) =>
    db().selectFrom("direct_messages").selectAll().where("sender_id", "=", sender).execute();
  const copiesOf = (messageId: string) =>
    db()
      .selectFrom("direct_message_copies")
      .selectAll()
      .where("message_id", "=", messageId)
      .orderBy("device_key_id")
      .execute();
  const dev = (p: Person, i = 0) => p.devices[i] as Device;

  /** Two people sharing a community: a on d1+d2, b on d1+d2. */
  async function pair(aDevices = ["a1", "a2"], bDevices = ["b1", "b2"]) {
    const [a, b] = await Promise.all([k.person(aDevices), k.person(bDevices)]);
    await k.friends(a, b);
    return { a, b };
  }
  const send = (c: HubClient, body: object) => c.request({ type: "dm.send", ...body }, WAIT);

  it("stores a verified message and answers with its id once committed, over the hub and REST", async () => {
    const { a, b } = await pair();
    const ac = await pool.connect(t.url, a, { device: "a1" });
    const body = k.envelope(a, dev(a), b);
    const reply = await send(ac, body);
    expect(reply).toEqual({
      type: "result",
      re: reply.re,
      result: {
        id: expect.stringMatching(UUID),
        client_msg_id: body.client_msg_id,
        sent_at: body.sent_at,
        duplicate: false,
      },
    });
    const [row] = await storedBy(a.id);
    expect(row).toMatchObject({
      id: reply.result.id,
      recipient_id: b.id,
      verification: "verified",
      signature: body.signature,
      signing_key_id: dev(a).signingKeyId,
    });
    expect(JSON.parse(row?.hashes ?? "[]")).toEqual(hashesOf(body.copies));
    const copies = await copiesOf(reply.result.id);
    expect(copies.map((c) => c.device_key_id).sort()).toEqual(
      [dev(b, 0).keyId, dev(b, 1).keyId, dev(a, 1).keyId].sort(),
    );
    expect(copies.every((c) => c.status === "pending")).toBe(true);

    const rest = await k.post(a, k.envelope(a, dev(a, 1), b));
    expect(rest.status).toBe(201);
    expect(rest.body).toEqual({
      id: expect.stringMatching(UUID),
      client_msg_id: expect.any(String),
      sent_at: expect.any(String),
    });
    expect(await storedBy(a.id)).toHaveLength(2);
  });

  it("refuses a signature that does not verify, and stores nothing", async () => {
    const { a, b } = await pair();
    const ac = await pool.connect(t.url, a, { device: "a1" });
    const frame = await send(ac, k.envelope(a, dev(a), b, { signing: "bad" }));
    expect(frame).toMatchObject({ type: "error", code: "invalid_signature" });
    const rest = await k.post(a, k.envelope(a, dev(a), b, { signing: "bad" }));
    expect([rest.status, rest.body.error.code]).toEqual([401, "invalid_signature"]);
    // A signature by the right key over copies changed afterwards does not verify either.
    const tampered = k.envelope(a, dev(a), b);
    tampered.copies[0] = { ...(tampered.copies[0] as (typeof tampered.copies)[0]), ciphertext: "AAAA" };
    expect((await k.post(a, tampered)).body.error.code).toBe("invalid_signature");
    expect(await storedBy(a.id)).toEqual([]);
  });

  it("refuses a signing key that is not an Ed25519 key of the sender as unverified_signature", async () => {
    const { a, b } = await pair();
    for (const signingKeyId of [dev(b).signingKeyId, dev(a).keyId, uuidv7()]) {
      const res = await k.post(a, k.envelope(a, dev(a), b, { signingKeyId }));
      expect([signingKeyId, res.status, res.body.error.code]).toEqual([
        signingKeyId,
        400,
        "unverified_signature",
      ]);
    }
    const noKey = k.envelope(a, dev(a), b);
    delete noKey.signing_key_id;
    expect((await k.post(a, noKey)).body.error.code).toBe("unverified_signature");
    expect(await storedBy(a.id)).toEqual([]);
  });

  it("refuses an unsigned message as unsigned_message", async () => {
    const { a, b } = await pair();
    const ac = await pool.connect(t.url, a, { device: "a1" });
    const res = await k.post(a, k.envelope(a, dev(a), b, { signing: "none" }));
    expect([res.status, res.body.error.code]).toEqual([400, "unsigned_message"]);
    expect(await send(ac, k.envelope(a, dev(a), b, { signing: "none" }))).toMatchObject({
      type: "error",
      code: "unsigned_message",
    });
    expect(await storedBy(a.id)).toEqual([]);
  });

  it("stores one message for a retried client_msg_id and delivers it once", async () => {
    const { a, b } = await pair(["a1"], ["b1"]);
    const bc = await pool.connect(t.url, b, { device: "b1" });
    const ac = await pool.connect(t.url, a, { device: "a1" });
    const body = k.envelope(a, dev(a), b);
    const first = await k.post(a, body);
    expect(first.status).toBe(201);
    const again = await k.post(a, body);
    expect([again.status, again.body]).toEqual([200, first.body]);
    expect((await send(ac, body)).result).toEqual({ ...first.body, duplicate: true });
    expect(await storedBy(a.id)).toHaveLength(1);
    expect(await copiesOf(first.body.id)).toHaveLength(1);
    await bc.next((f) => f.type === "dm" && f.id === first.body.id, WAIT);
    expect(await bc.collect("dm", 300)).toEqual([]);
  });

  it("stores one message when sends with one client_msg_id race, over REST and the hub", async () => {
    const { a, b } = await pair();
    const ac = await pool.connect(t.url, a, { device: "a1" });
    const ac2 = await pool.connect(t.url, a, { device: "a1" });
    const body = k.envelope(a, dev(a), b);
    const [rest, hub] = await Promise.all([
      Promise.all(Array.from({ length: 8 }, () => k.post(a, body))),
      Promise.all([send(ac, body), send(ac2, body)]),
    ]);
    const ids = new Set([...rest.map((r) => r.body.id), ...hub.map((h) => h.result?.id)]);
    expect(ids.size).toBe(1);
    const fresh = rest.filter((r) => r.status === 201).length + hub.filter((h) => !h.result.duplicate).length;
    expect(fresh).toBe(1);
    expect(rest.every((r) => r.status === 201 || r.status === 200)).toBe(true);
    expect(await storedBy(a.id)).toHaveLength(1);
    expect(await copiesOf([...ids][0] as string)).toHaveLength(3);
  });

  it("answers stale_device_keys with the current keys, for an unknown key and for a missing recipient key", async () => {
    const { a, b } = await pair(["a1", "a2"], ["b1", "b2"]);
    const keyOf = (p: Person, i: number) => ({
      id: dev(p, i).keyId,
      device: dev(p, i).name,
      public_key: dev(p, i).publicKey,
    });
    const byId = (x: { id: string }, y: { id: string }) => (x.id < y.id ? -1 : 1);
    const details = {
      recipient_keys: [keyOf(b, 0), keyOf(b, 1)].sort(byId),
      sender_keys: [keyOf(a, 0), keyOf(a, 1)].sort(byId),
    };
    const cases = [
      [opaqueCopy(dev(b, 0).keyId)], // b2 has no copy
      [...k.copies(a, dev(a), b), opaqueCopy(uuidv7())], // a key nobody has
      [...k.copies(a, dev(a), b), opaqueCopy(dev(b, 0).signingKeyId)], // b1's Ed25519 key
    ];
    const stranger = await k.person(["s1"]);
    cases.push([...k.copies(a, dev(a), b), opaqueCopy(dev(stranger).keyId)]); // a third person's key
    for (const copies of cases) {
      const res = await k.post(a, k.envelope(a, dev(a), b, { copies }));
      expect([res.status, res.body.error.code]).toEqual([409, "stale_device_keys"]);
      expect(res.body.error.details).toEqual(details);
    }
    const ac = await pool.connect(t.url, a, { device: "a1" });
    const frame = await send(ac, k.envelope(a, dev(a), b, { copies: [opaqueCopy(dev(b, 1).keyId)] }));
    expect(frame).toMatchObject({ type: "error", code: "stale_device_keys", details });
    expect(await storedBy(a.id)).toEqual([]);

    // A copy for the sender's own sending device is fine: it is one of the sender's keys.
    const all = [...k.copies(a, undefined, b)];
    expect((await k.post(a, k.envelope(a, dev(a), b, { copies: all }))).status).toBe(201);
  });

  it("answers stale_device_keys with an empty list when the recipient has no message key", async () => {
    const [a, b] = await Promise.all([k.person(["a1"]), k.person([])]);
    await k.friends(a, b);
    const res = await k.post(a, k.envelope(a, dev(a), b, { copies: [opaqueCopy(dev(a).keyId)] }));
    expect([res.status, res.body.error.code, res.body.error.details.recipient_keys]).toEqual([
      409,
      "stale_device_keys",
      [],
    ]);
  });

  it("answers peer_unavailable alike for a stranger, an unknown user and a block either way", async () => {
    const { a, b } = await pair(["a1"], ["b1"]);
    const stranger = await k.person(["s1"]);
    const ac = await pool.connect(t.url, a, { device: "a1" });
    const refusal = async (from: Person, to: Person | { id: string }) => {
      const rest = await k.post(from, k.envelope(from, dev(from), to));
      return { status: rest.status, body: rest.body };
    };
    const hubRefusal = async (to: Person | { id: string }) => {
      const { re: _, ...frame } = await send(ac, k.envelope(a, dev(a), to));
      return frame;
    };
    const strangerAnswer = await refusal(a, stranger);
    expect(strangerAnswer).toEqual({
      status: 404,
      body: { error: { code: "peer_unavailable", message: expect.any(String) } },
    });
    expect(await refusal(a, { id: uuidv7() })).toEqual(strangerAnswer);
    const strangerFrame = await hubRefusal(stranger);
    expect(strangerFrame).toMatchObject({ type: "error", code: "peer_unavailable" });
    expect(await hubRefusal({ id: uuidv7() })).toEqual(strangerFrame);

    expect((await t.api("POST", `/v1/users/${b.id}/block`, { token: a.token })).status).toBe(201);
    expect(await refusal(a, b)).toEqual(strangerAnswer);
    expect(await refusal(b, a)).toEqual(strangerAnswer);
    expect(await hubRefusal(b)).toEqual(strangerFrame);
    const blocks = await t.api("GET", "/v1/me/blocks", { token: a.token });
    expect(blocks.body).toEqual({
      blocks: [{ user_id: b.id, username: b.username, created_at: expect.any(String) }],
    });
    expect((await t.api("GET", "/v1/me/blocks", { token: b.token })).body).toEqual({ blocks: [] });
    expect(await storedBy(a.id)).toEqual([]);
    expect(await storedBy(b.id)).toEqual([]);

    expect((await t.api("DELETE", `/v1/users/${b.id}/block`, { token: a.token })).status).toBe(204);
    expect((await k.post(a, k.envelope(a, dev(a), b))).status).toBe(201);
    expect((await k.post(b, k.envelope(b, dev(b), a))).status).toBe(201);
    const trail = await t.server.repositories.audit.list({ actorId: a.id, limit: 50 });
    expect(trail.filter((e) => e.action.startsWith("user.")).map((e) => [e.action, e.target])).toEqual([
      ["user.unblock", b.id],
      ["user.block", b.id],
    ]);
  });

  it("blocks: not yourself, not an unknown user; a repeat is no change; unblocking twice is not_found", async () => {
    const [a, b] = await Promise.all([k.person([]), k.person([])]);
    const block = (id: string) => t.api("POST", `/v1/users/${id}/block`, { token: a.token });
    expect([(await block(a.id)).status, (await block(a.id)).body.error.code]).toEqual([
      400,
      "invalid_request",
    ]);
    expect((await block(uuidv7())).body.error.code).toBe("not_found");
    const first = await block(b.id);
    const again = await block(b.id);
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.body).toEqual(first.body);
    const unblock = () => t.api("DELETE", `/v1/users/${b.id}/block`, { token: a.token });
    expect((await unblock()).status).toBe(204);
    expect([(await unblock()).status]).toEqual([404]);
    expect((await t.api("GET", "/v1/me/blocks", { token: a.token })).body.blocks).toEqual([]);
  });

  it("refuses sent_at far from the server's clock, two copies for one key, and bad shapes", async () => {
    const { a, b } = await pair(["a1"], ["b1"]);
    const late = new Date(Date.now() - 6 * 60_000).toISOString();
    const res = await k.post(a, k.envelope(a, dev(a), b, { sentAt: late }));
    expect([res.status, res.body.error.code, res.body.error.details.field]).toEqual([
      400,
      "invalid_request",
      "sent_at",
    ]);
    const copy = opaqueCopy(dev(b).keyId);
    const twice = await k.post(
      a,
      k.envelope(a, dev(a), b, { copies: [copy, { ...copy, ciphertext: "AAAA" }] }),
    );
    expect([twice.status, twice.body.error.code]).toEqual([400, "invalid_request"]);
    const ac = await pool.connect(t.url, a, { device: "a1" });
    for (const bad of [
      { ...k.envelope(a, dev(a), b), copies: [] },
      { ...k.envelope(a, dev(a), b), client_msg_id: "x".repeat(65) },
      { ...k.envelope(a, dev(a), b), sent_at: "yesterday" },
      { ...k.envelope(a, dev(a), b), copies: [{ ...copy, ciphertext: "not base64!" }] },
      { ...k.envelope(a, dev(a), b), copies: [{ ...copy, ciphertext: "A".repeat(65_537) }] },
    ]) {
      expect((await k.post(a, bad)).body.error?.code).toBe("invalid_request");
      if (JSON.stringify(bad).length < 60_000) {
        expect((await send(ac, bad)).code).toBe("invalid_request");
      }
    }
    expect(await storedBy(a.id)).toEqual([]);
  });

  it("gives a device one key of each kind: a second is device_key_exists until the first is deleted", async () => {
    const a = await k.person(["a1"]);
    const keys = (await t.api("GET", "/v1/auth/keys", { token: a.token })).body.keys;
    expect(keys.map((x: { device: string; kind: string }) => [x.device, x.kind]).sort()).toEqual([
      ["a1", "ed25519"],
      ["a1", "x25519"],
    ]);
    expect((await t.api("GET", `/v1/users/${a.id}/keys`, { token: a.token })).body.keys).toEqual(keys);
    const add = () =>
      t.api("POST", "/v1/auth/keys", {
        token: a.token,
        body: { kind: "x25519", public_key: opaqueCopy("k").enc, device: "a1" },
      });
    const second = await add();
    expect([second.status, second.body.error.code]).toEqual([409, "device_key_exists"]);
    expect((await t.api("DELETE", `/v1/auth/keys/${dev(a).keyId}`, { token: a.token })).status).toBe(204);
    const replaced = await add();
    expect([replaced.status, replaced.body.device]).toEqual([201, "a1"]);
    const bad = await t.api("POST", "/v1/auth/keys", {
      token: a.token,
      body: { kind: "x25519", public_key: opaqueCopy("k").enc, device: "no spaces" },
    });
    expect([bad.status, bad.body.error.code]).toEqual([400, "invalid_request"]);
    const trail = await t.server.repositories.audit.list({ actorId: a.id, limit: 50 });
    expect(
      trail.filter((e) => e.action.startsWith("key.")).map((e) => [e.action, JSON.parse(e.details ?? "{}")]),
    ).toEqual([
      ["key.add", { kind: "x25519", device: "a1" }],
      ["key.delete", { kind: "x25519", device: "a1" }],
      ["key.add", { kind: "x25519", device: "a1" }],
      ["key.add", { kind: "ed25519", device: "a1" }],
    ]);
  });
});

describe.each(backends())("direct messages with ALLOW_UNVERIFIED and ALLOW_UNSIGNED on $name", (backend) => {
  let t: TestServer;
  let k: ReturnType<typeof dmKit>;
  const pool = clientPool();
  beforeAll(async () => {
    t = await startTestServer(backend, { ALLOW_UNVERIFIED: "true", ALLOW_UNSIGNED: "true" });
    k = dmKit(t.api);
  });
  afterEach(async () => pool.closeAll());
  afterAll(async () => t?.close());

  it("stores unverified and unsigned messages, marked so, and still refuses a bad signature", async () => {
    const [a, b] = await Promise.all([k.person(["a1"]), k.person(["b1"])]);
    await k.friends(a, b);
    const bc = await pool.connect(t.url, b, { device: "b1" });
    const a1 = a.devices[0] as Device;

    const unverified = await k.post(a, k.envelope(a, a1, b, { signingKeyId: uuidv7() }));
    expect(unverified.status).toBe(201);
    const unsigned = await k.post(a, k.envelope(a, a1, b, { signing: "none" }));
    expect(unsigned.status).toBe(201);
    const bad = await k.post(a, k.envelope(a, a1, b, { signing: "bad" }));
    expect(bad.body.error.code).toBe("invalid_signature");

    const got1 = await bc.next((f) => f.type === "dm" && f.id === unverified.body.id, WAIT);
    expect(got1.verification).toBe("unverified");
    const got2 = await bc.next((f) => f.type === "dm" && f.id === unsigned.body.id, WAIT);
    expect([got2.verification, got2.signature, got2.signing_key_id]).toEqual(["unsigned", null, null]);
    const rows = await t.server.database.db
      .selectFrom("direct_messages")
      .select(["id", "verification"])
      .where("sender_id", "=", a.id)
      .orderBy("id")
      .execute();
    expect(rows.map((r) => r.verification)).toEqual(["unverified", "unsigned"]);
  });
});
