import { randomBytes } from "node:crypto";
import { uuidv7 } from "@warren/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RawSettings, type RunningServer, startServer } from "../src/index.js";
import { type Backend, backends, type TestDatabase } from "./helpers/backends.js";
import { ed25519Pair } from "./helpers/keys.js";
import {
  type Api,
  type ApiResponse,
  apiFor,
  configFor,
  PASSWORD,
  register,
  startTestServer,
  type TestServer,
  uniqueName,
} from "./helpers/server.js";

const WRONG = "not the password at all";
const WINDOW_SECONDS = 15 * 60; // LOGIN_FAILURE_WINDOW's default

const REDIS_URL = process.env.WARREN_TEST_REDIS || undefined;
if (!REDIS_URL) {
  console.warn("Redis brute-force runs skipped: set WARREN_TEST_REDIS=redis://host:6379 to include them");
}

/** A 429 rate_limited answer with a Retry-After of whole seconds that agrees with the body. */
function expectRateLimited(res: ApiResponse) {
  expect(res.status).toBe(429);
  expect(res.body.error.code).toBe("rate_limited");
  expect(typeof res.body.error.message).toBe("string");
  const header = res.headers.get("retry-after");
  expect(header).toMatch(/^\d+$/);
  const seconds = Number(header);
  expect(seconds).toBeGreaterThan(0);
  expect(seconds).toBeLessThanOrEqual(WINDOW_SECONDS);
  expect(res.body.error.details).toEqual({ retry_after: seconds });
  expect(res.body.tokens).toBeUndefined();
}

const login = (api: Api, body: Record<string, unknown>) => api("POST", "/v1/auth/login", { body });

/**
 * Starts a server over an existing database: instances behind a load balancer share
 * one database (and, with REDIS_URL, one set of counters).
 */
async function startOn(database: TestDatabase, settings: RawSettings) {
  const server: RunningServer = await startServer(configFor(database, settings));
  return { server, api: apiFor(`http://127.0.0.1:${server.port}`) };
}

describe.each(backends())("sign-in brute-force limits on $name", (backend: Backend) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(backend, { LOGIN_MAX_FAILURES: "3", LOGIN_MAX_FAILURES_PER_IP: "100" });
  });
  afterAll(async () => t?.close());

  it("answers 429 with Retry-After after 3 failures, even to the right password; other accounts go on", async () => {
    const a = await register(t.api);
    const b = await register(t.api);
    // Any case of the name is the same account.
    for (const username of [a.user.username, a.user.username.toUpperCase(), a.user.username]) {
      const res = await login(t.api, { username, password: WRONG });
      expect([res.status, res.body.error.code]).toEqual([401, "invalid_credentials"]);
    }
    expectRateLimited(await login(t.api, { username: a.user.username, password: PASSWORD }));
    expectRateLimited(await login(t.api, { username: a.user.username, password: WRONG }));
    expectRateLimited(await login(t.api, { username: a.user.username.toUpperCase(), password: PASSWORD }));

    const other = await login(t.api, { username: b.user.username, password: PASSWORD });
    expect(other.status).toBe(200);
    // Tokens issued before the lockout keep working: only sign-in is limited.
    expect((await t.api("GET", "/v1/auth/me", { token: a.tokens.access_token })).status).toBe(200);
  });

  it("limits unknown usernames the same way, so the answer does not reveal which accounts exist", async () => {
    const ghost = uniqueName("ghost");
    for (let i = 0; i < 3; i++) {
      expect((await login(t.api, { username: ghost, password: WRONG })).status).toBe(401);
    }
    expectRateLimited(await login(t.api, { username: ghost, password: WRONG }));
  });

  it("resets the account's counter on a successful sign-in", async () => {
    const { user } = await register(t.api);
    const fail = async () => {
      const res = await login(t.api, { username: user.username, password: WRONG });
      expect([res.status, res.body.error.code]).toEqual([401, "invalid_credentials"]);
    };
    await fail();
    await fail();
    expect((await login(t.api, { username: user.username, password: PASSWORD })).status).toBe(200);
    await fail();
    await fail();
    // Four failures in all, but only two since the last success.
    expect((await login(t.api, { username: user.username, password: PASSWORD })).status).toBe(200);
    await fail();
    await fail();
    await fail();
    expectRateLimited(await login(t.api, { username: user.username, password: PASSWORD }));
  });

  it("counts failures by username and by email against one account", async () => {
    const email = `${uniqueName("bf")}@example.com`;
    const { user } = await register(t.api, { email });
    expect((await login(t.api, { username: user.username, password: WRONG })).status).toBe(401);
    expect((await login(t.api, { email, password: WRONG })).status).toBe(401);
    expect((await login(t.api, { email: email.toUpperCase(), password: WRONG })).status).toBe(401);
    expectRateLimited(await login(t.api, { username: user.username, password: PASSWORD }));
    expectRateLimited(await login(t.api, { email, password: PASSWORD }));
  });

  it("counts bad key signatures against the account", async () => {
    const pair = ed25519Pair();
    const username = uniqueName("kbf");
    expect(
      (await t.api("POST", "/v1/auth/register", { body: { username, public_key: pair.publicKey } })).status,
    ).toBe(201);
    const attempt = async (good: boolean) => {
      const c = await t.api("POST", "/v1/auth/challenge", { body: { username } });
      expect(c.status).toBe(200);
      const bytes = Buffer.from(c.body.challenge, "base64");
      const signature = good ? pair.sign(bytes) : ed25519Pair().sign(bytes);
      return t.api("POST", "/v1/auth/verify", { body: { challenge_id: c.body.challenge_id, signature } });
    };
    for (let i = 0; i < 3; i++) {
      const bad = await attempt(false);
      expect([bad.status, bad.body.error.code]).toEqual([401, "invalid_signature"]);
    }
    expectRateLimited(await attempt(true));
  });

  it("counts password and key failures of one account together", async () => {
    const pair = ed25519Pair();
    const { user } = await register(t.api, { public_key: pair.publicKey });
    for (let i = 0; i < 2; i++) {
      expect((await login(t.api, { username: user.username, password: WRONG })).status).toBe(401);
    }
    const c = await t.api("POST", "/v1/auth/challenge", { body: { username: user.username } });
    const forged = ed25519Pair().sign(Buffer.from(c.body.challenge, "base64"));
    const bad = await t.api("POST", "/v1/auth/verify", {
      body: { challenge_id: c.body.challenge_id, signature: forged },
    });
    expect([bad.status, bad.body.error.code]).toEqual([401, "invalid_signature"]);
    expectRateLimited(await login(t.api, { username: user.username, password: PASSWORD }));
  });

  it("counts wrong codes at TOTP confirm and removal against the account", async () => {
    const a = await register(t.api);
    const token = a.tokens.access_token;
    expect((await t.api("POST", "/v1/auth/totp", { token })).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      const res = await t.api("POST", "/v1/auth/totp/confirm", { token, body: { code: "000000" } });
      expect(res.body.error.code).toBe("invalid_totp");
    }
    expectRateLimited(await t.api("POST", "/v1/auth/totp/confirm", { token, body: { code: "123456" } }));
    expectRateLimited(await login(t.api, { username: a.user.username, password: PASSWORD }));
  });

  it("limits failures per client address across usernames", async () => {
    const s = await startTestServer(backend, { LOGIN_MAX_FAILURES: "100", LOGIN_MAX_FAILURES_PER_IP: "4" });
    try {
      const known = await register(s.api);
      const fresh = await register(s.api);
      for (const username of [known.user.username, uniqueName("ip"), uniqueName("ip"), uniqueName("ip")]) {
        const res = await login(s.api, { username, password: WRONG });
        expect([res.status, res.body.error.code]).toEqual([401, "invalid_credentials"]);
      }
      // An account with no failures of its own, with the right password, from the same address.
      expectRateLimited(await login(s.api, { username: fresh.user.username, password: PASSWORD }));
      // Key sign-in from that address is held back too.
      expectRateLimited(
        await s.api("POST", "/v1/auth/verify", {
          body: { challenge_id: uuidv7(), signature: Buffer.alloc(64).toString("base64") },
        }),
      );
    } finally {
      await s.close();
    }
  });

  it("counts verify failures with an unknown challenge per client address", async () => {
    const s = await startTestServer(backend, { LOGIN_MAX_FAILURES: "100", LOGIN_MAX_FAILURES_PER_IP: "3" });
    try {
      const { user } = await register(s.api);
      const verify = () =>
        s.api("POST", "/v1/auth/verify", {
          body: { challenge_id: uuidv7(), signature: Buffer.alloc(64, 1).toString("base64") },
        });
      for (let i = 0; i < 3; i++) {
        const res = await verify();
        expect([res.status, res.body.error.code]).toEqual([401, "invalid_challenge"]);
      }
      expectRateLimited(await verify());
      expectRateLimited(await login(s.api, { username: user.username, password: PASSWORD }));
    } finally {
      await s.close();
    }
  });

  if (REDIS_URL) {
    const redisUrl = REDIS_URL;
    it("shares counters through Redis: failures on one instance lock the account on another", async () => {
      const database = await backend.create();
      const settings: RawSettings = {
        REDIS_URL: redisUrl,
        LOGIN_MAX_FAILURES: "3",
        // Per-address counters live in Redis too and 127.0.0.1 is every run's address:
        // keep that limit out of the way and the window short.
        LOGIN_MAX_FAILURES_PER_IP: "1000000",
        LOGIN_FAILURE_WINDOW: "2m",
      };
      const a = await startOn(database, settings);
      const b = await startOn(database, settings);
      try {
        // Unique across runs: the counters outlive this test in Redis.
        const username = `r${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
        await register(a.api, { username });
        expect((await login(b.api, { username, password: PASSWORD })).status).toBe(200);
        for (let i = 0; i < 3; i++) {
          const res = await login(a.api, { username, password: WRONG });
          expect([res.status, res.body.error.code]).toEqual([401, "invalid_credentials"]);
        }
        const res = await login(b.api, { username, password: PASSWORD });
        expect(res.status).toBe(429);
        expect(res.body.error.code).toBe("rate_limited");
        const seconds = Number(res.headers.get("retry-after"));
        expect(seconds).toBeGreaterThan(0);
        expect(seconds).toBeLessThanOrEqual(120);
        expect((await login(a.api, { username, password: PASSWORD })).status).toBe(429);
      } finally {
        await a.server.close();
        await b.server.close();
        await database.drop();
      }
    });
  }
});
