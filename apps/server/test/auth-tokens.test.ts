import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "./helpers/backends.js";
import { PASSWORD, register, startTestServer, type TestServer, uniqueName } from "./helpers/server.js";

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

describe.each(backends())("tokens and sessions on $name", (backend) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(backend);
  });
  afterAll(async () => t?.close());

  it("signs in, reads /auth/me, and rejects missing or malformed credentials", async () => {
    const { user, tokens } = await register(t.api, {
      email: `${uniqueName("m")}@example.com`,
      display_name: "Ann",
    });
    const me = await t.api("GET", "/v1/auth/me", { token: tokens.access_token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      id: user.id,
      display_name: "Ann",
      has_password: true,
      totp_enabled: false,
    });
    expect(me.body.session_id).toBe(tokens.session_id);
    expect(me.body.password_hash).toBeUndefined();

    const none = await t.api("GET", "/v1/auth/me");
    expect([none.status, none.body.error.code]).toEqual([401, "unauthorized"]);
    const basic = await t.api("GET", "/v1/auth/me", { headers: { authorization: "Basic abc" } });
    expect([basic.status, basic.body.error.code]).toEqual([401, "invalid_token"]);
    const junk = await t.api("GET", "/v1/auth/me", { token: "not.a.jwt" });
    expect([junk.status, junk.body.error.code]).toEqual([401, "invalid_token"]);
  });

  it("issues an access JWT with sub, sid, iat, exp, jti, typ and a 15-minute default life", async () => {
    const { user, tokens } = await register(t.api);
    const [, payload] = tokens.access_token.split(".");
    const claims = JSON.parse(Buffer.from(payload as string, "base64url").toString());
    expect(claims).toMatchObject({ sub: user.id, sid: tokens.session_id, typ: "access" });
    expect(typeof claims.jti).toBe("string");
    expect(claims.exp - claims.iat).toBe(900);
    expect(tokens.expires_in).toBe(900);
    expect(Date.parse(tokens.refresh_expires_at) - Date.now()).toBeGreaterThan(29 * 86_400_000);
  });

  it("rejects a JWT signed with another key, with alg none, or with its payload changed", async () => {
    const { user, tokens } = await register(t.api);
    const other = await new SignJWT({ sid: tokens.session_id, typ: "access" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(user.id)
      .setIssuedAt()
      .setExpirationTime("10m")
      .setJti("x")
      .sign(new TextEncoder().encode("some-other-secret-that-is-long-enough-0123"));
    const [header, payload, signature] = tokens.access_token.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    const none = `${b64url({ alg: "none", typ: "JWT" })}.${payload}.`;
    const noneSigned = `${b64url({ alg: "none", typ: "JWT" })}.${payload}.${signature}`;
    const changed = `${header}.${b64url({ ...claims, exp: claims.exp + 3600 })}.${signature}`;
    const otherUser = `${header}.${b64url({ ...claims, sub: "01a20169-226a-7000-8219-34790df7608a" })}.${signature}`;
    const hs512 = `${b64url({ alg: "HS512", typ: "JWT" })}.${payload}.${signature}`;
    for (const bad of [other, none, noneSigned, changed, otherUser, hs512]) {
      const res = await t.api("GET", "/v1/auth/me", { token: bad });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe("invalid_token");
    }
    expect((await t.api("GET", "/v1/auth/me", { token: tokens.access_token })).status).toBe(200);
  });

  it("rejects an expired access token with token_expired", async () => {
    // 3 s, not 1 s: exp has whole seconds, and a slow registration must not eat the lifetime.
    const short = await startTestServer(backend, { ACCESS_TOKEN_TTL: "3s" });
    try {
      const { tokens } = await register(short.api);
      expect((await short.api("GET", "/v1/auth/me", { token: tokens.access_token })).status).toBe(200);
      short.clock.advance(4100);
      const res = await short.api("GET", "/v1/auth/me", { token: tokens.access_token });
      expect([res.status, res.body.error.code]).toEqual([401, "token_expired"]);
      // The refresh token still gets a fresh access token.
      const refreshed = await short.api("POST", "/v1/auth/refresh", {
        body: { refresh_token: tokens.refresh_token },
      });
      expect(refreshed.status).toBe(200);
      expect(
        (await short.api("GET", "/v1/auth/me", { token: refreshed.body.tokens.access_token })).status,
      ).toBe(200);
    } finally {
      await short.close();
    }
  });

  it("rotates refresh tokens: the new one works, the old one stops working", async () => {
    const { tokens } = await register(t.api);
    const first = await t.api("POST", "/v1/auth/refresh", { body: { refresh_token: tokens.refresh_token } });
    expect(first.status).toBe(200);
    expect(first.body.tokens.refresh_token).not.toBe(tokens.refresh_token);
    expect(first.body.tokens.session_id).toBe(tokens.session_id);
    const second = await t.api("POST", "/v1/auth/refresh", {
      body: { refresh_token: first.body.tokens.refresh_token },
    });
    expect(second.status).toBe(200);
    expect((await t.api("GET", "/v1/auth/me", { token: second.body.tokens.access_token })).status).toBe(200);
  });

  it("revokes the whole session when a rotated refresh token comes back", async () => {
    const { tokens } = await register(t.api);
    const next = await t.api("POST", "/v1/auth/refresh", { body: { refresh_token: tokens.refresh_token } });
    expect(next.status).toBe(200);
    const reuse = await t.api("POST", "/v1/auth/refresh", { body: { refresh_token: tokens.refresh_token } });
    expect([reuse.status, reuse.body.error.code]).toEqual([401, "refresh_reused"]);
    // Everything of that session is dead now: the newest refresh token and every access token.
    const after = await t.api("POST", "/v1/auth/refresh", {
      body: { refresh_token: next.body.tokens.refresh_token },
    });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe("invalid_refresh_token");
    for (const token of [tokens.access_token, next.body.tokens.access_token]) {
      expect((await t.api("GET", "/v1/auth/me", { token })).status).toBe(401);
    }
    const audit = await t.server.repositories.audit.list({ action: "session.refresh_reused" });
    expect(audit.some((e) => e.target === tokens.session_id)).toBe(true);
  });

  it("lets exactly one of two concurrent refreshes of one token win", async () => {
    for (let round = 0; round < 5; round++) {
      const { tokens } = await register(t.api);
      const results = await Promise.all(
        [1, 2].map(() =>
          t.api("POST", "/v1/auth/refresh", { body: { refresh_token: tokens.refresh_token } }),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    }
  });

  it("rejects unknown refresh tokens", async () => {
    const res = await t.api("POST", "/v1/auth/refresh", { body: { refresh_token: "nope-nope-nope" } });
    expect([res.status, res.body.error.code]).toEqual([401, "invalid_refresh_token"]);
  });

  it("logout revokes the session: its access and refresh tokens stop working, others do not", async () => {
    const { user, tokens } = await register(t.api);
    const second = await t.api("POST", "/v1/auth/login", {
      body: { username: user.username, password: PASSWORD },
    });
    expect(second.status).toBe(200);
    const out = await t.api("POST", "/v1/auth/logout", { token: tokens.access_token });
    expect(out.status).toBe(204);
    const me = await t.api("GET", "/v1/auth/me", { token: tokens.access_token });
    expect([me.status, me.body.error.code]).toEqual([401, "invalid_token"]);
    const refresh = await t.api("POST", "/v1/auth/refresh", {
      body: { refresh_token: tokens.refresh_token },
    });
    expect(refresh.status).toBe(401);
    expect((await t.api("GET", "/v1/auth/me", { token: second.body.tokens.access_token })).status).toBe(200);
    expect((await t.api("POST", "/v1/auth/logout")).status).toBe(401);
  });

  it("signs in by username (any case) or email; wrong password and unknown user look the same", async () => {
    const email = `${uniqueName("e")}@Example.com`;
    const { user } = await register(t.api, { email });
    const byName = await t.api("POST", "/v1/auth/login", {
      body: { username: user.username.toUpperCase(), password: PASSWORD },
    });
    expect(byName.status).toBe(200);
    expect(byName.body.user.id).toBe(user.id);
    const byEmail = await t.api("POST", "/v1/auth/login", {
      body: { email: email.toLowerCase(), password: PASSWORD },
    });
    expect(byEmail.status).toBe(200);
    const wrong = await t.api("POST", "/v1/auth/login", {
      body: { username: user.username, password: "wrong password" },
    });
    const unknown = await t.api("POST", "/v1/auth/login", {
      body: { username: "nobody_here_x", password: PASSWORD },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body.error.code).toBe("invalid_credentials");
    const neither = await t.api("POST", "/v1/auth/login", { body: { password: PASSWORD } });
    expect([neither.status, neither.body.error.code]).toEqual([400, "invalid_request"]);
  });

  it("takes about the same time for an unknown user as for a wrong password", async () => {
    const { user } = await register(t.api);
    const time = async (username: string) => {
      const start = performance.now();
      await t.api("POST", "/v1/auth/login", { body: { username, password: "definitely wrong" } });
      return performance.now() - start;
    };
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 4; i++) {
      known.push(await time(user.username));
      unknown.push(await time(uniqueName("ghost")));
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
    // Both paths run one argon2 verification; without the decoy the unknown path is ~50x faster.
    expect(median(unknown)).toBeGreaterThan(median(known) / 4);
  });
});
