import { uuidv7 } from "@warren/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "./helpers/backends.js";
import { ed25519Pair, x25519Public } from "./helpers/keys.js";
import { register, startTestServer, type TestServer, uniqueName } from "./helpers/server.js";

type Kind = "ed25519" | "x25519";

const hex = (h: string) => Buffer.from(h, "hex").toString("base64");

const BAD_KEYS: { kind: Kind; key: string; why: string }[] = [
  { kind: "ed25519", why: "the identity (small order)", key: hex(`01${"00".repeat(31)}`) },
  { kind: "ed25519", why: "y = -1 (order 2)", key: hex(`ec${"ff".repeat(30)}7f`) },
  { kind: "ed25519", why: "y = 0 (order 4)", key: hex("00".repeat(32)) },
  {
    kind: "ed25519",
    why: "a point of order 8",
    key: hex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
  },
  { kind: "ed25519", why: "y = 2, not on the curve", key: hex(`02${"00".repeat(31)}`) },
  { kind: "ed25519", why: "y = p + 3, a non-canonical encoding", key: hex(`f0${"ff".repeat(30)}7f`) },
  { kind: "x25519", why: "u = 0", key: hex("00".repeat(32)) },
  { kind: "x25519", why: "u = 1", key: hex(`01${"00".repeat(31)}`) },
  {
    kind: "x25519",
    why: "a point of order 8",
    key: hex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
  },
  { kind: "x25519", why: "u = p - 1", key: hex(`ec${"ff".repeat(30)}7f`) },
];

describe.each(backends())("public keys and profiles on $name", (backend) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(backend);
  });
  afterAll(async () => t?.close());

  const addKey = (token: string, body: Record<string, unknown>) =>
    t.api("POST", "/v1/auth/keys", { token, body });
  const myKeys = async (token: string) => {
    const res = await t.api("GET", "/v1/auth/keys", { token });
    expect(res.status).toBe(200);
    return res.body.keys as { id: string; kind: Kind; public_key: string; label: string | null }[];
  };
  /** Registers an account that has only an Ed25519 key, no password. */
  const registerKeyOnly = () => {
    const pair = ed25519Pair();
    return register(t.api, { username: uniqueName("k"), password: undefined, public_key: pair.publicKey });
  };

  it("adds Ed25519 and X25519 keys and lists them; an added Ed25519 key signs in", async () => {
    const { user, tokens } = await register(t.api);
    const token = tokens.access_token;
    expect(await myKeys(token)).toEqual([]);

    const ed = ed25519Pair();
    const xKey = x25519Public();
    const before = Date.now();
    const edRes = await addKey(token, { kind: "ed25519", public_key: ed.publicKey, label: "laptop" });
    expect(edRes.status).toBe(201);
    expect(edRes.body).toMatchObject({ kind: "ed25519", public_key: ed.publicKey, label: "laptop" });
    expect(edRes.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Date.parse(edRes.body.created_at)).toBeGreaterThanOrEqual(before - 1000);
    const xRes = await addKey(token, { kind: "x25519", public_key: xKey });
    expect(xRes.status).toBe(201);
    expect(xRes.body).toMatchObject({ kind: "x25519", public_key: xKey, label: null });

    const mine = await myKeys(token);
    expect(mine.map((k) => k.id).sort()).toEqual([edRes.body.id, xRes.body.id].sort());
    expect(mine.find((k) => k.id === xRes.body.id)).toEqual(xRes.body);

    // Anyone signed in sees them under the user's public keys.
    const viewer = await register(t.api);
    const theirs = await t.api("GET", `/v1/users/${user.id}/keys`, { token: viewer.tokens.access_token });
    expect(theirs.status).toBe(200);
    expect(theirs.body.keys).toEqual(mine);

    // The new Ed25519 key signs in by challenge-response.
    const challenge = await t.api("POST", "/v1/auth/challenge", { body: { public_key: ed.publicKey } });
    expect(challenge.status).toBe(200);
    const verified = await t.api("POST", "/v1/auth/verify", {
      body: {
        challenge_id: challenge.body.challenge_id,
        signature: ed.sign(Buffer.from(challenge.body.challenge, "base64")),
      },
    });
    expect(verified.status).toBe(200);
    expect(verified.body.user.id).toBe(user.id);
  });

  it("requires a token to list, add and delete keys, and to read profiles", async () => {
    const { user } = await register(t.api);
    const pair = ed25519Pair();
    for (const [method, path, body] of [
      ["GET", "/v1/auth/keys", undefined],
      ["POST", "/v1/auth/keys", { kind: "ed25519", public_key: pair.publicKey }],
      ["DELETE", `/v1/auth/keys/${uuidv7()}`, undefined],
      ["GET", `/v1/users/${user.id}`, undefined],
      ["GET", `/v1/users/${user.id}/keys`, undefined],
    ] as const) {
      const res = await t.api(method, path, { body });
      expect([method, path, res.status, res.body.error.code]).toEqual([method, path, 401, "unauthorized"]);
    }
  });

  it("stores keys in standard base64 and refuses the same key twice with key_taken", async () => {
    const a = await register(t.api);
    const b = await register(t.api);
    const ed = ed25519Pair();
    // URL-safe alphabet, no padding: the same 32 bytes.
    const urlSafe = Buffer.from(ed.publicKey, "base64").toString("base64url");
    expect(urlSafe).not.toBe(ed.publicKey);
    const added = await addKey(a.tokens.access_token, { kind: "ed25519", public_key: urlSafe });
    expect(added.status).toBe(201);
    expect(added.body.public_key).toBe(ed.publicKey);

    for (const [token, encoding] of [
      [a.tokens.access_token, ed.publicKey],
      [a.tokens.access_token, urlSafe],
      [b.tokens.access_token, ed.publicKey],
    ] as const) {
      const dup = await addKey(token, { kind: "ed25519", public_key: encoding });
      expect([dup.status, dup.body.error.code]).toEqual([409, "key_taken"]);
    }
    expect(await myKeys(b.tokens.access_token)).toEqual([]);

    // Registering with a key some account already has is key_taken too, and creates nothing.
    const name = uniqueName("dup");
    const reg = await t.api("POST", "/v1/auth/register", {
      body: { username: name, public_key: ed.publicKey },
    });
    expect([reg.status, reg.body.error.code]).toEqual([409, "key_taken"]);
    expect((await t.api("GET", `/v1/users/check/${name}`)).body.available).toBe(true);

    const xKey = x25519Public();
    expect((await addKey(a.tokens.access_token, { kind: "x25519", public_key: xKey })).status).toBe(201);
    const xDup = await addKey(b.tokens.access_token, { kind: "x25519", public_key: xKey });
    expect([xDup.status, xDup.body.error.code]).toEqual([409, "key_taken"]);
  });

  it("rejects small-order, low-order, off-curve and non-canonical keys with invalid_public_key", async () => {
    const { tokens } = await register(t.api);
    const token = tokens.access_token;
    for (const bad of BAD_KEYS) {
      const res = await addKey(token, { kind: bad.kind, public_key: bad.key });
      expect([bad.kind, bad.why, res.status, res.body.error?.code]).toEqual([
        bad.kind,
        bad.why,
        400,
        "invalid_public_key",
      ]);
    }
    // A large-order point with a canonical encoding passes (the control for the cases above).
    expect((await addKey(token, { kind: "ed25519", public_key: hex(`03${"00".repeat(31)}`) })).status).toBe(
      201,
    );
    expect((await myKeys(token)).map((k) => k.public_key)).toEqual([hex(`03${"00".repeat(31)}`)]);

    // The same check guards registration and the challenge lookup.
    const reg = await t.api("POST", "/v1/auth/register", {
      body: { username: uniqueName("bad"), public_key: hex(`01${"00".repeat(31)}`) },
    });
    expect([reg.status, reg.body.error.code]).toEqual([400, "invalid_public_key"]);
    const ch = await t.api("POST", "/v1/auth/challenge", {
      body: { public_key: hex(`02${"00".repeat(31)}`) },
    });
    expect([ch.status, ch.body.error.code]).toEqual([400, "invalid_public_key"]);
  });

  it("rejects keys of the wrong length or alphabet, and unknown kinds, at the schema", async () => {
    const { tokens } = await register(t.api);
    const token = tokens.access_token;
    const good = ed25519Pair().publicKey;
    for (const body of [
      { kind: "ed25519", public_key: Buffer.alloc(31, 7).toString("base64") },
      { kind: "ed25519", public_key: Buffer.alloc(33, 7).toString("base64") },
      { kind: "x25519", public_key: Buffer.alloc(64, 7).toString("base64") },
      { kind: "ed25519", public_key: "" },
      { kind: "ed25519", public_key: `${good.slice(0, 42)}!` },
      { kind: "rsa", public_key: good },
      { public_key: good },
      { kind: "ed25519", public_key: good, label: "" },
      { kind: "ed25519", public_key: good, label: "x".repeat(65) },
    ]) {
      const res = await addKey(token, body);
      expect([JSON.stringify(body), res.status, res.body.error.code]).toEqual([
        JSON.stringify(body),
        400,
        "invalid_request",
      ]);
    }
    expect(await myKeys(token)).toEqual([]);
  });

  it("shows a public profile (no email, no secrets) and answers 404 and 400 for unknown and malformed ids", async () => {
    const { user } = await register(t.api, { email: `${uniqueName("p")}@example.com`, display_name: "Pat" });
    const viewer = await register(t.api);
    const token = viewer.tokens.access_token;
    const profile = await t.api("GET", `/v1/users/${user.id}`, { token });
    expect(profile.status).toBe(200);
    expect(Object.keys(profile.body).sort()).toEqual(["created_at", "display_name", "id", "username"]);
    expect(profile.body).toMatchObject({ id: user.id, username: user.username, display_name: "Pat" });
    expect(new Date(profile.body.created_at).toISOString()).toBe(profile.body.created_at);

    for (const path of [`/v1/users/${uuidv7()}`, `/v1/users/${uuidv7()}/keys`]) {
      const res = await t.api("GET", path, { token });
      expect([path, res.status, res.body.error.code]).toEqual([path, 404, "not_found"]);
    }
    for (const path of ["/v1/users/not-a-uuid", "/v1/users/123/keys", `/v1/users/${user.id}x`]) {
      const res = await t.api("GET", path, { token });
      expect([path, res.status, res.body.error.code]).toEqual([path, 400, "invalid_request"]);
    }
  });

  it("deletes my keys; another account's key id is not found and that key stays", async () => {
    const a = await register(t.api);
    const b = await register(t.api);
    const mine = await addKey(a.tokens.access_token, {
      kind: "ed25519",
      public_key: ed25519Pair().publicKey,
    });
    const theirs = await addKey(b.tokens.access_token, { kind: "x25519", public_key: x25519Public() });

    const steal = await t.api("DELETE", `/v1/auth/keys/${theirs.body.id}`, { token: a.tokens.access_token });
    expect([steal.status, steal.body.error.code]).toEqual([404, "not_found"]);
    const still = await t.api("GET", `/v1/users/${b.user.id}/keys`, { token: a.tokens.access_token });
    expect(still.body.keys.map((k: { id: string }) => k.id)).toEqual([theirs.body.id]);

    // A password account may remove its only Ed25519 key.
    const del = await t.api("DELETE", `/v1/auth/keys/${mine.body.id}`, { token: a.tokens.access_token });
    expect(del.status).toBe(204);
    expect(del.body).toBeUndefined();
    expect(await myKeys(a.tokens.access_token)).toEqual([]);
    const again = await t.api("DELETE", `/v1/auth/keys/${mine.body.id}`, { token: a.tokens.access_token });
    expect([again.status, again.body.error.code]).toEqual([404, "not_found"]);
    const malformed = await t.api("DELETE", "/v1/auth/keys/nope", { token: a.tokens.access_token });
    expect([malformed.status, malformed.body.error.code]).toEqual([400, "invalid_request"]);
  });

  it("keeps the last Ed25519 key of an account without a password (last_credential)", async () => {
    const { tokens } = await registerKeyOnly();
    const token = tokens.access_token;
    const [only] = await myKeys(token);
    expect(only).toMatchObject({ kind: "ed25519", label: "registration" });
    const me = await t.api("GET", "/v1/auth/me", { token });
    expect(me.body.has_password).toBe(false);

    const refuse = await t.api("DELETE", `/v1/auth/keys/${only?.id}`, { token });
    expect([refuse.status, refuse.body.error.code]).toEqual([409, "last_credential"]);
    expect((await myKeys(token)).map((k) => k.id)).toEqual([only?.id]);

    // X25519 keys do not sign in, so they neither count nor are protected.
    const x = await addKey(token, { kind: "x25519", public_key: x25519Public() });
    const stillRefused = await t.api("DELETE", `/v1/auth/keys/${only?.id}`, { token });
    expect(stillRefused.body.error.code).toBe("last_credential");
    expect((await t.api("DELETE", `/v1/auth/keys/${x.body.id}`, { token })).status).toBe(204);

    // With a second Ed25519 key either may go, but not both.
    const second = await addKey(token, { kind: "ed25519", public_key: ed25519Pair().publicKey });
    expect((await t.api("DELETE", `/v1/auth/keys/${only?.id}`, { token })).status).toBe(204);
    const last = await t.api("DELETE", `/v1/auth/keys/${second.body.id}`, { token });
    expect([last.status, last.body.error.code]).toEqual([409, "last_credential"]);
    expect((await myKeys(token)).map((k) => k.id)).toEqual([second.body.id]);
  });

  it("keeps one Ed25519 key when both of a passwordless account's keys are deleted at once", async () => {
    for (let round = 0; round < 3; round++) {
      const { tokens } = await registerKeyOnly();
      const token = tokens.access_token;
      await addKey(token, { kind: "ed25519", public_key: ed25519Pair().publicKey });
      const keys = await myKeys(token);
      expect(keys).toHaveLength(2);
      const results = await Promise.all(keys.map((k) => t.api("DELETE", `/v1/auth/keys/${k.id}`, { token })));
      expect(results.map((r) => r.status).sort()).toEqual([204, 409]);
      expect(await myKeys(token)).toHaveLength(1);
    }
  });

  it("checks whether a username is free, ignoring case", async () => {
    await register(t.api, { username: "Carol_1" });
    for (const name of ["carol_1", "CAROL_1", "Carol_1"]) {
      const res = await t.api("GET", `/v1/users/check/${name}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ username: name, available: false });
    }
    const free = await t.api("GET", "/v1/users/check/carol_2");
    expect(free.body).toEqual({ username: "carol_2", available: true });
    for (const bad of ["ab", "x".repeat(33), encodeURIComponent("bad name"), "caf%C3%A9"]) {
      const res = await t.api("GET", `/v1/users/check/${bad}`);
      expect([bad, res.status, res.body.error.code]).toEqual([bad, 400, "invalid_request"]);
    }
  });
});
