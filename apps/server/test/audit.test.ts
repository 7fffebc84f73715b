import { Secret, TOTP } from "otpauth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "./helpers/backends.js";
import { ed25519Pair, x25519Public } from "./helpers/keys.js";
import { PASSWORD, register, startTestServer, type TestServer, uniqueName } from "./helpers/server.js";

const WRONG = "a wrong password 12345";

type AuditRow = Awaited<ReturnType<TestServer["server"]["repositories"]["audit"]["list"]>>[number];

/** The TOTP code of the current step, made away from a step boundary. */
async function currentCode(secret: string): Promise<string> {
  const into = Date.now() % 30_000;
  if (into > 28_000) await new Promise((r) => setTimeout(r, 30_000 - into + 20));
  return new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: "SHA1" }).generate({
    timestamp: Date.now(),
  });
}

describe.each(backends())("audit events on $name", (backend) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(backend);
  });
  afterAll(async () => t?.close());

  const rows = (filter: { actorId?: string; action?: string }) =>
    t.server.repositories.audit.list({ ...filter, limit: 1000 });

  /** The one row of `action` by `actorId`, checked for the common shape. */
  async function one(actorId: string, action: string, since: string): Promise<AuditRow> {
    const found = await rows({ actorId, action });
    expect(found, `${action} by ${actorId}`).toHaveLength(1);
    const row = found[0] as AuditRow;
    expect(row).toMatchObject({ actor_id: actorId, action, ip: null });
    expect(new Date(row.created_at).toISOString()).toBe(row.created_at);
    expect(row.created_at >= since).toBe(true);
    expect(row.created_at <= new Date().toISOString()).toBe(true);
    return row;
  }

  it("records registration, password sign-in and failed sign-ins", async () => {
    const since = new Date().toISOString();
    const { user } = await register(t.api);
    expect((await one(user.id, "account.register", since)).target).toBe(user.id);

    const ok = await t.api("POST", "/v1/auth/login", {
      body: { username: user.username, password: PASSWORD },
    });
    expect(ok.status).toBe(200);
    expect((await one(user.id, "signin.password", since)).target).toBe(ok.body.tokens.session_id);

    const bad = await t.api("POST", "/v1/auth/login", { body: { username: user.username, password: WRONG } });
    expect(bad.status).toBe(401);
    const failure = await one(user.id, "signin.failure", since);
    expect(failure.target).toBe(user.id);
    expect(JSON.parse(failure.details ?? "null")).toEqual({ reason: "password" });

    // An unknown name is recorded without an actor.
    const anonymousBefore = (await rows({ action: "signin.failure" })).filter(
      (r) => r.actor_id === null,
    ).length;
    const ghost = await t.api("POST", "/v1/auth/login", {
      body: { username: uniqueName("ghost"), password: WRONG },
    });
    expect(ghost.status).toBe(401);
    const anonymous = (await rows({ action: "signin.failure" })).filter((r) => r.actor_id === null);
    expect(anonymous).toHaveLength(anonymousBefore + 1);
    expect(anonymous[0]).toMatchObject({ target: null, ip: null });
  });

  it("records key sign-in and its failures: a bad signature and an unknown challenge", async () => {
    const since = new Date().toISOString();
    const pair = ed25519Pair();
    const username = uniqueName("ka");
    const reg = await t.api("POST", "/v1/auth/register", { body: { username, public_key: pair.publicKey } });
    expect(reg.status).toBe(201);
    const userId = reg.body.user.id as string;
    const challenge = async () => (await t.api("POST", "/v1/auth/challenge", { body: { username } })).body;

    const c1 = await challenge();
    const forged = ed25519Pair().sign(Buffer.from(c1.challenge, "base64"));
    const bad = await t.api("POST", "/v1/auth/verify", {
      body: { challenge_id: c1.challenge_id, signature: forged },
    });
    expect(bad.status).toBe(401);
    const failure = await one(userId, "signin.failure", since);
    expect(failure.target).toBe(userId);
    expect(JSON.parse(failure.details ?? "null")).toEqual({ reason: "signature" });

    const c2 = await challenge();
    const good = await t.api("POST", "/v1/auth/verify", {
      body: { challenge_id: c2.challenge_id, signature: pair.sign(Buffer.from(c2.challenge, "base64")) },
    });
    expect(good.status).toBe(200);
    expect((await one(userId, "signin.key", since)).target).toBe(good.body.tokens.session_id);

    // Replaying the spent challenge fails with no account to name.
    const replay = await t.api("POST", "/v1/auth/verify", {
      body: { challenge_id: c2.challenge_id, signature: pair.sign(Buffer.from(c2.challenge, "base64")) },
    });
    expect(replay.status).toBe(401);
    const anonymous = (await rows({ action: "signin.failure" })).filter(
      (r) => r.actor_id === null && r.created_at >= since,
    );
    expect(anonymous.map((r) => JSON.parse(r.details ?? "null"))).toContainEqual({ reason: "challenge" });
    expect(await rows({ actorId: userId, action: "signin.failure" })).toHaveLength(1);
  });

  it("records 2FA setup, enable, recovery-code use and disable", async () => {
    const since = new Date().toISOString();
    const { user, tokens } = await register(t.api);
    const token = tokens.access_token;
    const setup = await t.api("POST", "/v1/auth/totp", { token });
    expect((await one(user.id, "totp.setup", since)).target).toBe(user.id);
    expect(await rows({ actorId: user.id, action: "totp.enable" })).toEqual([]);

    const confirm = await t.api("POST", "/v1/auth/totp/confirm", {
      token,
      body: { code: await currentCode(setup.body.secret) },
    });
    expect(confirm.status).toBe(200);
    expect((await one(user.id, "totp.enable", since)).target).toBe(user.id);
    const [first, second] = confirm.body.recovery_codes as [string, string];

    const login = await t.api("POST", "/v1/auth/login", {
      body: { username: user.username, password: PASSWORD, totp: first },
    });
    expect(login.status).toBe(200);
    expect((await one(user.id, "totp.recovery_used", since)).target).toBe(user.id);

    const wrongTotp = await t.api("POST", "/v1/auth/login", {
      body: { username: user.username, password: PASSWORD, totp: first },
    });
    expect(wrongTotp.body.error.code).toBe("invalid_totp");
    expect(JSON.parse((await one(user.id, "signin.failure", since)).details ?? "null")).toEqual({
      reason: "totp",
    });

    const off = await t.api("DELETE", "/v1/auth/totp", { token, body: { code: second } });
    expect(off.status).toBe(204);
    expect((await one(user.id, "totp.disable", since)).target).toBe(user.id);
    expect(await rows({ actorId: user.id, action: "totp.recovery_used" })).toHaveLength(2);

    // Secrets and codes never reach the audit table.
    const all = JSON.stringify(await rows({ actorId: user.id }));
    for (const secret of [setup.body.secret, first, second, ...confirm.body.recovery_codes]) {
      expect(all).not.toContain(secret);
    }
  });

  it("records keys added and deleted, with the key id as target", async () => {
    const since = new Date().toISOString();
    const { user, tokens } = await register(t.api);
    const token = tokens.access_token;
    const added = await t.api("POST", "/v1/auth/keys", {
      token,
      body: { kind: "x25519", public_key: x25519Public(), label: "phone" },
    });
    expect(added.status).toBe(201);
    const add = await one(user.id, "key.add", since);
    expect(add.target).toBe(added.body.id);
    expect(JSON.parse(add.details ?? "null")).toEqual({ kind: "x25519" });
    expect(await rows({ actorId: user.id, action: "key.delete" })).toEqual([]);

    expect((await t.api("DELETE", `/v1/auth/keys/${added.body.id}`, { token })).status).toBe(204);
    const del = await one(user.id, "key.delete", since);
    expect(del.target).toBe(added.body.id);
    expect(JSON.parse(del.details ?? "null")).toEqual({ kind: "x25519" });

    // A refused change records nothing.
    const refused = await t.api("POST", "/v1/auth/keys", {
      token,
      body: { kind: "ed25519", public_key: Buffer.from(`01${"00".repeat(31)}`, "hex").toString("base64") },
    });
    expect(refused.status).toBe(400);
    expect(await rows({ actorId: user.id, action: "key.add" })).toHaveLength(1);
  });

  it("records refresh-token reuse and logout against the session", async () => {
    const since = new Date().toISOString();
    const { user, tokens } = await register(t.api);
    const next = await t.api("POST", "/v1/auth/refresh", { body: { refresh_token: tokens.refresh_token } });
    expect(next.status).toBe(200);
    expect(await rows({ actorId: user.id, action: "session.refresh_reused" })).toEqual([]);
    const reuse = await t.api("POST", "/v1/auth/refresh", { body: { refresh_token: tokens.refresh_token } });
    expect(reuse.body.error.code).toBe("refresh_reused");
    expect((await one(user.id, "session.refresh_reused", since)).target).toBe(tokens.session_id);

    const other = await t.api("POST", "/v1/auth/login", {
      body: { username: user.username, password: PASSWORD },
    });
    expect((await t.api("POST", "/v1/auth/logout", { token: other.body.tokens.access_token })).status).toBe(
      204,
    );
    expect((await one(user.id, "session.logout", since)).target).toBe(other.body.tokens.session_id);

    const all = JSON.stringify(await rows({ actorId: user.id }));
    for (const secret of [tokens.refresh_token, tokens.access_token, next.body.tokens.refresh_token]) {
      expect(all).not.toContain(secret);
    }
  });

  it("keeps no password and no client address in any audit row by default", async () => {
    const { user } = await register(t.api);
    await t.api("POST", "/v1/auth/login", { body: { username: user.username, password: WRONG } });
    await t.api("POST", "/v1/auth/login", { body: { username: uniqueName("nobody"), password: WRONG } });
    const all = await rows({});
    expect(all.length).toBeGreaterThanOrEqual(3);
    for (const row of all) {
      expect(row.ip).toBeNull();
      const text = JSON.stringify(row);
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(WRONG);
      expect(text).not.toContain("argon2");
    }
  });

  it("records the client address with AUDIT_CLIENT_IP=true", async () => {
    const s = await startTestServer(backend, { AUDIT_CLIENT_IP: "true" });
    try {
      const { user } = await register(s.api);
      await s.api("POST", "/v1/auth/login", { body: { username: user.username, password: WRONG } });
      const all = await s.server.repositories.audit.list({ actorId: user.id });
      expect(all.map((r) => r.action).sort()).toEqual(["account.register", "signin.failure"]);
      for (const row of all) expect(["127.0.0.1", "::ffff:127.0.0.1"]).toContain(row.ip);
    } finally {
      await s.close();
    }
  });

  it("takes the client address from X-Forwarded-For only from a trusted proxy", async () => {
    const forwarded = { "x-forwarded-for": "203.0.113.9" };
    for (const [trust, expected] of [
      ["127.0.0.1", "203.0.113.9"],
      ["10.9.9.9", "127.0.0.1"],
      ["false", "127.0.0.1"],
    ] as const) {
      const s = await startTestServer(backend, { AUDIT_CLIENT_IP: "true", TRUST_PROXY: trust });
      try {
        const username = uniqueName("fwd");
        const res = await s.api("POST", "/v1/auth/register", {
          body: { username, password: PASSWORD },
          headers: forwarded,
        });
        expect(res.status).toBe(201);
        const [row] = await s.server.repositories.audit.list({ actorId: res.body.user.id });
        expect(row?.ip?.replace("::ffff:", ""), `TRUST_PROXY=${trust}`).toBe(expected);
      } finally {
        await s.close();
      }
    }
  });
});
