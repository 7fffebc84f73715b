import { Secret, TOTP } from "otpauth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "./helpers/backends.js";
import { type Api, PASSWORD, register, startTestServer, type TestServer } from "./helpers/server.js";

const PERIOD_MS = 30_000;

const totpOf = (secret: string) =>
  new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: "SHA1" });

/**
 * The code of the time step `offset` steps away from now (-1 previous, 0 current,
 * +1 next). Near the end of a step it first waits for the next one to begin, so the
 * server checks the code in the step it was made for.
 */
async function codeAt(secret: string, offset: number): Promise<string> {
  const into = Date.now() % PERIOD_MS;
  if (into > PERIOD_MS - 2_000) await new Promise((r) => setTimeout(r, PERIOD_MS - into + 20));
  return totpOf(secret).generate({ timestamp: Date.now() + offset * PERIOD_MS });
}

/** A six-digit code that is none of the codes accepted right now. */
function wrongCode(secret: string): string {
  const now = Date.now();
  const valid = new Set([-1, 0, 1].map((d) => totpOf(secret).generate({ timestamp: now + d * PERIOD_MS })));
  let n = 123456;
  while (valid.has(String(n))) n += 1;
  return String(n);
}

const RECOVERY_CODE = /^[A-HJKMNP-Z2-9]{5}-[A-HJKMNP-Z2-9]{5}$/;

/** Turns TOTP on for the account of `token`, confirming with the previous step's code. */
async function enableTotp(api: Api, token: string) {
  const setup = await api("POST", "/v1/auth/totp", { token });
  expect(setup.status).toBe(200);
  const secret = setup.body.secret as string;
  const confirm = await api("POST", "/v1/auth/totp/confirm", {
    token,
    body: { code: await codeAt(secret, -1) },
  });
  expect(confirm.status).toBe(200);
  return { secret, recoveryCodes: confirm.body.recovery_codes as string[] };
}

describe.each(backends())("two-factor sign-in (TOTP) on $name", (backend) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(backend);
  });
  afterAll(async () => t?.close());

  const login = (username: string, totp?: string, password = PASSWORD) =>
    t.api("POST", "/v1/auth/login", {
      body: { username, password, ...(totp === undefined ? {} : { totp }) },
    });

  it("sets up a secret and otpauth URL, and is not on until confirmed with a current code", async () => {
    const { user, tokens } = await register(t.api);
    const token = tokens.access_token;
    expect((await t.api("GET", "/v1/auth/me", { token })).body.totp_enabled).toBe(false);

    const first = await t.api("POST", "/v1/auth/totp", { token });
    expect(first.status).toBe(200);
    expect(first.body.secret).toMatch(/^[A-Z2-7]{16,}$/);
    const url = new URL(first.body.otpauth_url);
    expect(url.protocol).toBe("otpauth:");
    expect(url.host).toBe("totp");
    expect(decodeURIComponent(url.pathname)).toContain(user.username);
    expect(url.searchParams.get("secret")).toBe(first.body.secret);
    expect(url.searchParams.get("issuer")).toBe("warren");
    expect(url.searchParams.get("algorithm")).toBe("SHA1");
    expect(url.searchParams.get("digits")).toBe("6");
    expect(url.searchParams.get("period")).toBe("30");

    // Set up but not confirmed: still off, sign-in needs no code.
    expect((await t.api("GET", "/v1/auth/me", { token })).body.totp_enabled).toBe(false);
    expect((await login(user.username)).status).toBe(200);

    // Starting again replaces the secret: codes of the first one no longer confirm.
    const second = await t.api("POST", "/v1/auth/totp", { token });
    expect(second.status).toBe(200);
    expect(second.body.secret).not.toBe(first.body.secret);
    const stale = await t.api("POST", "/v1/auth/totp/confirm", {
      token,
      body: { code: await codeAt(first.body.secret, 0) },
    });
    expect([stale.status, stale.body.error.code]).toEqual([401, "invalid_totp"]);
    const wrong = await t.api("POST", "/v1/auth/totp/confirm", {
      token,
      body: { code: wrongCode(second.body.secret) },
    });
    expect([wrong.status, wrong.body.error.code]).toEqual([401, "invalid_totp"]);
    const notDigits = await t.api("POST", "/v1/auth/totp/confirm", { token, body: { code: "ABCDE-FGHJK" } });
    expect([notDigits.status, notDigits.body.error.code]).toEqual([401, "invalid_totp"]);
    expect((await t.api("GET", "/v1/auth/me", { token })).body.totp_enabled).toBe(false);

    const confirm = await t.api("POST", "/v1/auth/totp/confirm", {
      token,
      body: { code: await codeAt(second.body.secret, 0) },
    });
    expect(confirm.status).toBe(200);
    const codes = confirm.body.recovery_codes as string[];
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(RECOVERY_CODE);
    expect((await t.api("GET", "/v1/auth/me", { token })).body.totp_enabled).toBe(true);
    const noCode = await login(user.username);
    expect([noCode.status, noCode.body.error.code]).toEqual([401, "totp_required"]);
  });

  it("answers 409 for confirm before setup, and for setup or confirm when already on", async () => {
    const { tokens } = await register(t.api);
    const token = tokens.access_token;
    const early = await t.api("POST", "/v1/auth/totp/confirm", { token, body: { code: "123456" } });
    expect([early.status, early.body.error.code]).toEqual([409, "totp_not_started"]);

    const { secret } = await enableTotp(t.api, token);
    const again = await t.api("POST", "/v1/auth/totp", { token });
    expect([again.status, again.body.error.code]).toEqual([409, "totp_already_enabled"]);
    const reconfirm = await t.api("POST", "/v1/auth/totp/confirm", {
      token,
      body: { code: await codeAt(secret, 1) },
    });
    expect([reconfirm.status, reconfirm.body.error.code]).toEqual([409, "totp_already_enabled"]);
  });

  it("requires a token for every TOTP endpoint and a code in the body", async () => {
    for (const [method, path, body] of [
      ["POST", "/v1/auth/totp", undefined],
      ["POST", "/v1/auth/totp/confirm", { code: "123456" }],
      ["DELETE", "/v1/auth/totp", { code: "123456" }],
    ] as const) {
      const res = await t.api(method, path, { body });
      expect([res.status, res.body.error.code]).toEqual([401, "unauthorized"]);
    }
    const { tokens } = await register(t.api);
    const missing = await t.api("POST", "/v1/auth/totp/confirm", { token: tokens.access_token, body: {} });
    expect([missing.status, missing.body.error.code]).toEqual([400, "invalid_request"]);
  });

  it("signs in with a current code, and a code works once", async () => {
    const { user, tokens } = await register(t.api);
    const { secret } = await enableTotp(t.api, tokens.access_token);

    const noCode = await login(user.username);
    expect([noCode.status, noCode.body.error.code]).toEqual([401, "totp_required"]);
    // A wrong password answers invalid_credentials before the second factor comes up.
    const badPassword = await login(user.username, undefined, "not the password");
    expect([badPassword.status, badPassword.body.error.code]).toEqual([401, "invalid_credentials"]);
    const wrong = await login(user.username, wrongCode(secret));
    expect([wrong.status, wrong.body.error.code]).toEqual([401, "invalid_totp"]);

    const code = await codeAt(secret, 0);
    const ok = await login(user.username, code);
    expect(ok.status).toBe(200);
    expect(ok.body.user.id).toBe(user.id);
    expect((await t.api("GET", "/v1/auth/me", { token: ok.body.tokens.access_token })).status).toBe(200);

    const replay = await login(user.username, code);
    expect([replay.status, replay.body.error.code]).toEqual([401, "invalid_totp"]);
    expect(replay.body.tokens).toBeUndefined();

    // The next step's code is still fresh.
    expect((await login(user.username, await codeAt(secret, 1))).status).toBe(200);
  });

  it("accepts one time step either side of now, not two, and never a step older than the last used", async () => {
    const { user, tokens } = await register(t.api);
    const token = tokens.access_token;
    const setup = await t.api("POST", "/v1/auth/totp", { token });
    const secret = setup.body.secret as string;
    const confirm = (code: string) => t.api("POST", "/v1/auth/totp/confirm", { token, body: { code } });

    // No step used yet: these fail only for being two steps away.
    expect((await confirm(await codeAt(secret, -2))).body.error.code).toBe("invalid_totp");
    expect((await confirm(await codeAt(secret, 2))).body.error.code).toBe("invalid_totp");
    // The previous step's code is accepted.
    expect((await confirm(await codeAt(secret, -1))).status).toBe(200);

    const twoAhead = await login(user.username, await codeAt(secret, 2));
    expect([twoAhead.status, twoAhead.body.error.code]).toEqual([401, "invalid_totp"]);
    // The next step's code is accepted.
    expect((await login(user.username, await codeAt(secret, 1))).status).toBe(200);
    // The current step is within the window but older than the step just used.
    const older = await login(user.username, await codeAt(secret, 0));
    expect([older.status, older.body.error.code]).toEqual([401, "invalid_totp"]);
  });

  it("takes a recovery code once instead of a TOTP code, ignoring case, dashes and spaces", async () => {
    const { user, tokens } = await register(t.api);
    const { recoveryCodes } = await enableTotp(t.api, tokens.access_token);
    const [first, second, third] = recoveryCodes as [string, string, string];

    const loose = first.toLowerCase().replace("-", "");
    const ok = await login(user.username, loose);
    expect(ok.status).toBe(200);
    const again = await login(user.username, first);
    expect([again.status, again.body.error.code]).toEqual([401, "invalid_totp"]);

    const spaced = ` ${second.slice(0, 5).toLowerCase()} ${second.slice(6)} `;
    expect((await login(user.username, spaced)).status).toBe(200);
    expect((await login(user.username, second)).body.error.code).toBe("invalid_totp");

    // A code made up, or another account's code, is not one of this account's.
    const made = await login(user.username, "ABCDE-FGHJK");
    expect([made.status, made.body.error.code]).toEqual([401, "invalid_totp"]);
    const other = await register(t.api);
    const { recoveryCodes: othersCodes } = await enableTotp(t.api, other.tokens.access_token);
    const foreign = await login(user.username, othersCodes[0]);
    expect([foreign.status, foreign.body.error.code]).toEqual([401, "invalid_totp"]);
    // ...and that account's code still works for that account.
    expect((await login(other.user.username, othersCodes[0])).status).toBe(200);

    // A recovery code also turns 2FA off.
    const off = await t.api("DELETE", "/v1/auth/totp", { token: tokens.access_token, body: { code: third } });
    expect(off.status).toBe(204);
    expect((await login(user.username)).status).toBe(200);
  });

  it("turns off with a current code; then sign-in needs no code and old recovery codes are gone", async () => {
    const { user, tokens } = await register(t.api);
    const token = tokens.access_token;
    const notOn = await t.api("DELETE", "/v1/auth/totp", { token, body: { code: "123456" } });
    expect([notOn.status, notOn.body.error.code]).toEqual([409, "totp_not_enabled"]);

    const { secret, recoveryCodes } = await enableTotp(t.api, token);
    const wrong = await t.api("DELETE", "/v1/auth/totp", { token, body: { code: wrongCode(secret) } });
    expect([wrong.status, wrong.body.error.code]).toEqual([401, "invalid_totp"]);
    expect((await t.api("GET", "/v1/auth/me", { token })).body.totp_enabled).toBe(true);

    const off = await t.api("DELETE", "/v1/auth/totp", { token, body: { code: await codeAt(secret, 0) } });
    expect(off.status).toBe(204);
    expect((await t.api("GET", "/v1/auth/me", { token })).body.totp_enabled).toBe(false);
    const plain = await login(user.username);
    expect(plain.status).toBe(200);

    const twice = await t.api("DELETE", "/v1/auth/totp", { token, body: { code: await codeAt(secret, 1) } });
    expect([twice.status, twice.body.error.code]).toEqual([409, "totp_not_enabled"]);

    // On again with a new secret: the recovery codes of the first round do not work.
    const { recoveryCodes: fresh } = await enableTotp(t.api, token);
    expect(fresh.some((c) => recoveryCodes.includes(c))).toBe(false);
    expect((await login(user.username, recoveryCodes[0])).body.error.code).toBe("invalid_totp");
    expect((await login(user.username, fresh[0])).status).toBe(200);
  });
});
