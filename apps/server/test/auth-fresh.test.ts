import { Secret, TOTP } from "otpauth";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { backends } from "./helpers/backends.js";
import { clientPool } from "./helpers/hub-client.js";
import { ed25519Pair, x25519Public } from "./helpers/keys.js";
import { PASSWORD, register, startTestServer, type TestServer, uniqueName } from "./helpers/server.js";

/** Short enough that a test can outlive it, long enough for the steps right after a sign-in. */
const WINDOW_MS = 1500;

/**
 * A stolen access (or refresh) token must stay a short-lived problem: credentials that
 * outlive it (sign-in keys, message keys, TOTP, a password) can be added or changed only
 * by a session that proved who it is within FRESH_AUTH_WINDOW.
 */
describe.each(backends())("fresh proof for credential changes on $name", (backend) => {
  let t: TestServer;
  const pool = clientPool();
  beforeAll(async () => {
    t = await startTestServer(backend, { FRESH_AUTH_WINDOW: `${WINDOW_MS}ms` });
  });
  afterEach(() => pool.closeAll());
  afterAll(async () => t?.close());

  const login = async (username: string, password = PASSWORD) => {
    const res = await t.api("POST", "/v1/auth/login", { body: { username, password } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.tokens as { access_token: string; refresh_token: string; session_id: string };
  };
  const keysOf = async (token: string) => (await t.api("GET", "/v1/auth/keys", { token })).body.keys;
  /** An account whose only session is older than the window: a token an attacker could hold. */
  const staleAccount = async () => {
    const r = await register(t.api);
    t.clock.advance(WINDOW_MS + 200);
    return r;
  };

  it("refuses every credential change from a session whose proof is older than the window, and changes nothing", async () => {
    const { user, tokens } = await staleAccount();
    const token = tokens.access_token;
    // A refreshed token is no fresher: refreshing proves possession of a token, not identity.
    const refreshed = await t.api("POST", "/v1/auth/refresh", {
      body: { refresh_token: tokens.refresh_token },
    });
    expect(refreshed.status).toBe(200);
    for (const bearer of [token, refreshed.body.tokens.access_token]) {
      const attempts = [
        t.api("POST", "/v1/auth/keys", {
          token: bearer,
          body: { kind: "ed25519", public_key: ed25519Pair().publicKey },
        }),
        t.api("POST", "/v1/auth/keys", {
          token: bearer,
          body: { kind: "x25519", public_key: x25519Public(), device: "attacker" },
        }),
        t.api("POST", "/v1/auth/totp", { token: bearer }),
      ];
      for (const res of await Promise.all(attempts)) {
        expect(res.status, JSON.stringify(res.body)).toBe(403);
        expect(res.body.error.code).toBe("reauthentication_required");
        expect(res.body.error.details.max_age_seconds).toBe(2);
      }
    }
    expect(await keysOf(refreshed.body.tokens.access_token)).toEqual([]);
    const me = await t.api("GET", "/v1/auth/me", { token: refreshed.body.tokens.access_token });
    expect(me.body).toMatchObject({ id: user.id, totp_enabled: false });
  });

  it("a password (and nothing less) makes the session fresh again; then a key can be added and removed", async () => {
    const { user, tokens } = await staleAccount();
    const token = tokens.access_token;
    const wrong = await t.api("POST", "/v1/auth/reauthenticate", {
      token,
      body: { password: "not the password at all" },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe("invalid_credentials");
    const empty = await t.api("POST", "/v1/auth/reauthenticate", { token, body: {} });
    expect(empty.status).toBe(400);
    expect(
      (await t.api("POST", "/v1/auth/keys", { token, body: { kind: "x25519", public_key: x25519Public() } }))
        .status,
    ).toBe(403);

    const before = Date.now();
    const ok = await t.api("POST", "/v1/auth/reauthenticate", { token, body: { password: PASSWORD } });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(Date.parse(ok.body.proved_at)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(ok.body.fresh_until) - Date.parse(ok.body.proved_at)).toBe(WINDOW_MS);

    const added = await t.api("POST", "/v1/auth/keys", {
      token,
      body: { kind: "ed25519", public_key: ed25519Pair().publicKey },
    });
    expect(added.status).toBe(201);
    const removed = await t.api("DELETE", `/v1/auth/keys/${added.body.id}`, { token });
    expect(removed.status).toBe(204);
    // The proof was for this session only: another session of the same account is not fresh.
    const other = await login(user.username);
    t.clock.advance(WINDOW_MS + 200);
    const late = await t.api("POST", "/v1/auth/keys", {
      token: other.access_token,
      body: { kind: "ed25519", public_key: ed25519Pair().publicKey },
    });
    expect(late.body.error?.code).toBe("reauthentication_required");
  });

  it("a signature by one of the account's keys is a proof too; another account's challenge is not", async () => {
    const pair = ed25519Pair();
    const username = uniqueName("k");
    const reg = await register(t.api, { username, password: undefined, public_key: pair.publicKey });
    const stranger = ed25519Pair();
    const strangerName = uniqueName("s");
    await register(t.api, { username: strangerName, password: undefined, public_key: stranger.publicKey });
    t.clock.advance(WINDOW_MS + 200);
    const token = reg.tokens.access_token;

    const foreign = (await t.api("POST", "/v1/auth/challenge", { body: { username: strangerName } })).body;
    const misuse = await t.api("POST", "/v1/auth/reauthenticate", {
      token,
      body: {
        challenge_id: foreign.challenge_id,
        signature: stranger.sign(Buffer.from(foreign.challenge, "base64")),
      },
    });
    expect(misuse.status).toBe(401);
    expect(misuse.body.error.code).toBe("invalid_challenge");

    const mine = (await t.api("POST", "/v1/auth/challenge", { body: { username } })).body;
    const badSig = await t.api("POST", "/v1/auth/reauthenticate", {
      token,
      body: {
        challenge_id: mine.challenge_id,
        signature: stranger.sign(Buffer.from(mine.challenge, "base64")),
      },
    });
    expect(badSig.body.error.code).toBe("invalid_signature");
    const again = (await t.api("POST", "/v1/auth/challenge", { body: { username } })).body;
    const proved = await t.api("POST", "/v1/auth/reauthenticate", {
      token,
      body: {
        challenge_id: again.challenge_id,
        signature: pair.sign(Buffer.from(again.challenge, "base64")),
      },
    });
    expect(proved.status, JSON.stringify(proved.body)).toBe(200);
    const added = await t.api("POST", "/v1/auth/keys", {
      token,
      body: { kind: "x25519", public_key: x25519Public(), device: "laptop" },
    });
    expect(added.status).toBe(201);
  });

  it("a key-only account sets its first password only from a fresh session; a password account needs the current one", async () => {
    const pair = ed25519Pair();
    const keyOnly = await register(t.api, {
      username: uniqueName("k"),
      password: undefined,
      public_key: pair.publicKey,
    });
    const fresh = await t.api("POST", "/v1/auth/password", {
      token: keyOnly.tokens.access_token,
      body: { new_password: "a brand new password" },
    });
    expect(fresh.status, JSON.stringify(fresh.body)).toBe(200);
    await login(keyOnly.user.username, "a brand new password");

    const { user, tokens } = await staleAccount();
    const missing = await t.api("POST", "/v1/auth/password", {
      token: tokens.access_token,
      body: { new_password: "the attacker's password" },
    });
    expect(missing.status).toBe(400);
    const wrong = await t.api("POST", "/v1/auth/password", {
      token: tokens.access_token,
      body: { current_password: "guessing wrong here", new_password: "the attacker's password" },
    });
    expect(wrong.body.error.code).toBe("invalid_credentials");
    await login(user.username);
  });

  it("changing the password ends the other sessions (their tokens and sockets) unless told not to", async () => {
    const { user, tokens } = await register(t.api);
    const other = await login(user.username);
    const socket = await pool.connect(t.url, {
      id: user.id,
      username: user.username,
      token: other.access_token,
    });

    const changed = await t.api("POST", "/v1/auth/password", {
      token: tokens.access_token,
      body: { current_password: PASSWORD, new_password: "second password here" },
    });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body.revoked_sessions).toBe(1);
    expect((await socket.closed).code).toBe(4001);
    expect((await t.api("GET", "/v1/auth/me", { token: other.access_token })).status).toBe(401);
    const refresh = await t.api("POST", "/v1/auth/refresh", { body: { refresh_token: other.refresh_token } });
    expect(refresh.status).toBe(401);
    // The session that changed it goes on, and counts as freshly proved.
    expect((await t.api("GET", "/v1/auth/me", { token: tokens.access_token })).status).toBe(200);
    const old = await t.api("POST", "/v1/auth/login", {
      body: { username: user.username, password: PASSWORD },
    });
    expect(old.status).toBe(401);

    const third = await login(user.username, "second password here");
    const kept = await t.api("POST", "/v1/auth/password", {
      token: tokens.access_token,
      body: {
        current_password: "second password here",
        new_password: "third password here",
        revoke_other_sessions: false,
      },
    });
    expect(kept.body.revoked_sessions).toBe(0);
    expect((await t.api("GET", "/v1/auth/me", { token: third.access_token })).status).toBe(200);
  });

  it("TOTP-protected accounts prove with the password and a code", async () => {
    const { user, tokens } = await register(t.api);
    const token = tokens.access_token;
    const setup = await t.api("POST", "/v1/auth/totp", { token });
    expect(setup.status).toBe(200);
    const generator = new TOTP({
      secret: Secret.fromBase32(setup.body.secret),
      digits: 6,
      period: 30,
      algorithm: "SHA1",
    });
    // The previous step's code: the current one stays unused for nothing else here.
    const code = generator.generate({ timestamp: Date.now() - 30_000 });
    const confirm = await t.api("POST", "/v1/auth/totp/confirm", { token, body: { code } });
    expect(confirm.status, JSON.stringify(confirm.body)).toBe(200);
    const noCode = await t.api("POST", "/v1/auth/reauthenticate", { token, body: { password: PASSWORD } });
    expect(noCode.body.error.code).toBe("totp_required");
    const recovery = confirm.body.recovery_codes[0];
    const withCode = await t.api("POST", "/v1/auth/reauthenticate", {
      token,
      body: { password: PASSWORD, totp: recovery },
    });
    expect(withCode.status, JSON.stringify(withCode.body)).toBe(200);
    const me = await t.api("GET", "/v1/auth/me", { token });
    expect(me.body).toMatchObject({ id: user.id, totp_enabled: true });
  });
});

describe.each(backends())("sessions of an account on $name", (backend) => {
  let t: TestServer;
  const pool = clientPool();
  beforeAll(async () => {
    t = await startTestServer(backend);
  });
  afterEach(() => pool.closeAll());
  afterAll(async () => t?.close());

  it("lists the live sessions with the asker's marked, and ends one or all others at once", async () => {
    const { user, tokens } = await register(t.api);
    const second = await t.api("POST", "/v1/auth/login", {
      body: { username: user.username, password: PASSWORD },
      headers: { "user-agent": "warren-test/1.0 (second)" },
    });
    const third = await t.api("POST", "/v1/auth/login", {
      body: { username: user.username, password: PASSWORD },
    });
    const list = await t.api("GET", "/v1/auth/sessions", { token: tokens.access_token });
    expect(list.status).toBe(200);
    expect(list.body.sessions).toHaveLength(3);
    const mine = list.body.sessions.find((s: any) => s.current);
    expect(mine.id).toBe(tokens.session_id);
    // The session registration started keeps the client's User-Agent too.
    expect(mine.user_agent).toBeTruthy();
    expect(list.body.sessions.filter((s: any) => s.current)).toHaveLength(1);
    const secondRow = list.body.sessions.find((s: any) => s.id === second.body.tokens.session_id);
    expect(secondRow).toMatchObject({
      method: "password",
      user_agent: "warren-test/1.0 (second)",
      current: false,
    });

    const socket = await pool.connect(t.url, { ...user, token: second.body.tokens.access_token });
    const ended = await t.api("DELETE", `/v1/auth/sessions/${second.body.tokens.session_id}`, {
      token: tokens.access_token,
    });
    expect(ended.status).toBe(204);
    expect((await socket.closed).code).toBe(4001);
    expect((await t.api("GET", "/v1/auth/me", { token: second.body.tokens.access_token })).status).toBe(401);
    const again = await t.api("DELETE", `/v1/auth/sessions/${second.body.tokens.session_id}`, {
      token: tokens.access_token,
    });
    expect(again.status).toBe(404);

    // Another account's session answers like a missing one, and stays alive.
    const stranger = await register(t.api);
    const foreign = await t.api("DELETE", `/v1/auth/sessions/${stranger.tokens.session_id}`, {
      token: tokens.access_token,
    });
    expect(foreign.status).toBe(404);
    expect((await t.api("GET", "/v1/auth/me", { token: stranger.tokens.access_token })).status).toBe(200);

    const all = await t.api("DELETE", "/v1/auth/sessions", { token: tokens.access_token });
    expect(all.body).toEqual({ revoked_sessions: 1 });
    expect((await t.api("GET", "/v1/auth/me", { token: third.body.tokens.access_token })).status).toBe(401);
    const left = await t.api("GET", "/v1/auth/sessions", { token: tokens.access_token });
    expect(left.body.sessions.map((s: any) => s.id)).toEqual([tokens.session_id]);
  });

  it("tells the account's other sockets and people who share a community when a device key comes or goes; strangers hear nothing", async () => {
    const alice = await register(t.api);
    const bob = await register(t.api);
    const carol = await register(t.api);
    const community = await t.api("POST", "/v1/tenants", {
      token: alice.tokens.access_token,
      body: { name: uniqueName("c"), access: "open", visibility: "public" },
    });
    expect(community.status).toBe(201);
    expect(
      (
        await t.api("POST", `/v1/tenants/${community.body.id}/join`, {
          token: bob.tokens.access_token,
          body: {},
        })
      ).status,
    ).toBe(200);
    const aliceOther = await pool.connect(
      t.url,
      { ...alice.user, token: alice.tokens.access_token },
      { device: "phone" },
    );
    const bobSocket = await pool.connect(t.url, { ...bob.user, token: bob.tokens.access_token });
    const carolSocket = await pool.connect(t.url, { ...carol.user, token: carol.tokens.access_token });

    const added = await t.api("POST", "/v1/auth/keys", {
      token: alice.tokens.access_token,
      body: { kind: "x25519", public_key: x25519Public(), device: "laptop" },
    });
    expect(added.status).toBe(201);
    const expected = {
      type: "keys_changed",
      user: alice.user.id,
      change: "added",
      key: { id: added.body.id, kind: "x25519", device: "laptop" },
    };
    expect(await bobSocket.next("keys_changed")).toEqual(expected);
    expect(await aliceOther.next("keys_changed")).toEqual(expected);

    expect(
      (await t.api("DELETE", `/v1/auth/keys/${added.body.id}`, { token: alice.tokens.access_token })).status,
    ).toBe(204);
    expect(await bobSocket.next("keys_changed")).toMatchObject({
      change: "removed",
      key: { id: added.body.id },
    });
    // A sign-in key of no device is nobody's to seal to: no frame.
    await t.api("POST", "/v1/auth/keys", {
      token: alice.tokens.access_token,
      body: { kind: "ed25519", public_key: ed25519Pair().publicKey },
    });
    expect(await bobSocket.collect("keys_changed", 300)).toEqual([]);
    expect(await carolSocket.collect("keys_changed", 100)).toEqual([]);
  });
});
