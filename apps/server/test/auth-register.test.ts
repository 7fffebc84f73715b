import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "./helpers/backends.js";
import { ed25519Pair } from "./helpers/keys.js";
import { PASSWORD, startTestServer, type TestServer, uniqueName } from "./helpers/server.js";

const IDENTITY_POINT = Buffer.from(`01${"00".repeat(31)}`, "hex").toString("base64");

describe.each(backends())("registration on $name", (backend) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(backend);
  });
  afterAll(async () => t?.close());

  const reg = (body: Record<string, unknown>) => t.api("POST", "/v1/auth/register", { body });

  it("creates a password account: 201 with the user and tokens, UUIDv7 id, ISO time", async () => {
    const username = uniqueName("Reg");
    const res = await reg({
      username,
      password: PASSWORD,
      email: `${username}@example.com`,
      display_name: "Reg",
    });
    expect(res.status).toBe(201);
    expect(res.body.user).toMatchObject({ username, display_name: "Reg" });
    expect(res.body.user.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(res.body.user.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(res.body.tokens).toMatchObject({ token_type: "Bearer" });
    expect(res.body.tokens.access_token.split(".")).toHaveLength(3);
    expect(res.body.user.password_hash).toBeUndefined();
    const stored = await t.server.repositories.users.byId(res.body.user.id);
    expect(stored?.password_hash).toMatch(/^\$argon2id\$/);
    expect(stored?.password_hash).not.toContain(PASSWORD);
  });

  it("creates a key-only account that can sign in with its key", async () => {
    const pair = ed25519Pair();
    const res = await reg({ username: uniqueName("key"), public_key: pair.publicKey });
    expect(res.status).toBe(201);
    const keys = await t.api("GET", `/v1/users/${res.body.user.id}/keys`, {
      token: res.body.tokens.access_token,
    });
    expect(keys.body.keys).toEqual([
      expect.objectContaining({ kind: "ed25519", public_key: pair.publicKey }),
    ]);
    const me = await t.api("GET", "/v1/auth/me", { token: res.body.tokens.access_token });
    expect(me.body.has_password).toBe(false);
    const login = await t.api("POST", "/v1/auth/login", {
      body: { username: res.body.user.username, password: "anything at all" },
    });
    expect(login.status).toBe(401);
  });

  it("needs a password or a public key", async () => {
    const res = await reg({ username: uniqueName("none") });
    expect([res.status, res.body.error.code]).toEqual([400, "invalid_request"]);
  });

  it("checks username shape, password length and email shape", async () => {
    for (const username of ["ab", "a".repeat(33), "has space", "bad/char", "ünï"]) {
      const res = await reg({ username, password: PASSWORD });
      expect(res.status, username).toBe(400);
      expect(res.body.error.message).toContain("username");
    }
    const short = await reg({ username: uniqueName(), password: "123456789" });
    expect(short.status).toBe(400);
    expect(short.body.error.message).toContain("password");
    const email = await reg({ username: uniqueName(), password: PASSWORD, email: "not-an-email" });
    expect(email.status).toBe(400);
    expect(email.body.error.message).toContain("email");
  });

  it("rejects malformed and small-order public keys with invalid_public_key", async () => {
    for (const public_key of [IDENTITY_POINT, Buffer.alloc(32, 0xff).toString("base64")]) {
      const res = await reg({ username: uniqueName(), public_key });
      expect([res.status, res.body.error.code], public_key).toEqual([400, "invalid_public_key"]);
    }
    const shortKey = await reg({ username: uniqueName(), public_key: "AAAA" });
    expect(shortKey.status).toBe(400);
    expect(shortKey.body.error.code).toBe("invalid_request");
  });

  it("refuses a taken username in any case, a taken email and a taken key, storing nothing", async () => {
    const name = uniqueName("Dup");
    const pair = ed25519Pair();
    expect(
      (
        await reg({
          username: name,
          password: PASSWORD,
          email: `${name}@x.example`,
          public_key: pair.publicKey,
        })
      ).status,
    ).toBe(201);
    const sameName = await reg({ username: name.toLowerCase(), password: PASSWORD });
    expect([sameName.status, sameName.body.error.code]).toEqual([409, "username_taken"]);
    const other = uniqueName("Other");
    const sameEmail = await reg({
      username: other,
      password: PASSWORD,
      email: `${name.toUpperCase()}@X.example`,
    });
    expect([sameEmail.status, sameEmail.body.error.code]).toEqual([409, "email_taken"]);
    const sameKey = await reg({ username: other, public_key: pair.publicKey });
    expect([sameKey.status, sameKey.body.error.code]).toEqual([409, "key_taken"]);
    // The failed attempts left no account behind.
    expect(await t.server.repositories.users.byUsername(other)).toBeUndefined();
    const check = await t.api("GET", `/v1/users/check/${other}`);
    expect(check.body.available).toBe(true);
  });

  it("lets exactly one of 50 concurrent registrations of one username succeed", async () => {
    const username = uniqueName("race");
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        reg({ username: i % 2 ? username : username.toUpperCase(), password: PASSWORD }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(49);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.error.code === "username_taken")).toBe(
      true,
    );
    const rows = await t.server.database.db
      .selectFrom("users")
      .select("id")
      .where("username_key", "=", username.toLowerCase())
      .execute();
    expect(rows).toHaveLength(1);
  });
});
