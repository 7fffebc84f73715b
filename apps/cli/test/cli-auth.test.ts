import { generateKeyPairSync } from "node:crypto";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Secret, TOTP } from "otpauth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateEd25519 } from "../../../packages/sdk/src/index.js";
import { sqliteBackend } from "../../server/test/helpers/backends.js";
import {
  PASSWORD,
  register,
  startTestServer,
  type TestServer,
  uniqueName,
} from "../../server/test/helpers/server.js";
import { hasPython, machine, removeTempDirs, runOnTerminal, tempDir } from "./helpers/cli.js";

/**
 * The TOTP code of the step `offset` away from now. Away from the end of a 30 s step,
 * so the server checks it in the step it was made for. Each code works once, so
 * setup confirms with the previous step's code and sign-in uses the current one.
 */
async function totpCode(secret: string, offset = 0): Promise<string> {
  const into = Date.now() % 30_000;
  if (into > 25_000) await new Promise((r) => setTimeout(r, 30_000 - into + 50));
  const totp = new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: "SHA1" });
  return totp.generate({ timestamp: Date.now() + offset * 30_000 });
}

/** Turns TOTP on for an account through the API; returns the secret. */
async function enableTotp(t: TestServer, token: string): Promise<string> {
  const setup = await t.api("POST", "/v1/auth/totp", { token });
  const secret = setup.body.secret as string;
  const confirm = await t.api("POST", "/v1/auth/totp/confirm", {
    token,
    body: { code: await totpCode(secret, -1) },
  });
  expect(confirm.status).toBe(200);
  return secret;
}

describe("warren login, whoami, logout", { timeout: 120_000 }, () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(sqliteBackend);
  });
  afterAll(async () => {
    await t?.close();
    removeTempDirs();
  });

  it("logs in with --password-stdin, keeps credentials 0600, whoami, logout", async () => {
    const { user } = await register(t.api);
    const m = machine(t.url);
    const login = await m.ok(["login", "--username", user.username, "--password-stdin"], {
      input: `${PASSWORD}\n`,
    });
    expect(login.stdout).toContain(`logged in to ${t.url} as ${user.username}`);

    const file = path.join(m.configDir, "credentials.json");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(file, "utf8"));
    expect(stored).toMatchObject({ server: t.url, user: { id: user.id, username: user.username } });
    expect(stored.tokens.refresh_token).toEqual(expect.any(String));

    const [text, json] = await Promise.all([m.ok(["whoami"]), m.ok(["whoami", "--json"])]);
    expect(text.stdout).toMatch(new RegExp(`user:\\s+${user.username}`));
    expect(json.json()).toMatchObject({
      id: user.id,
      username: user.username,
      server: t.url,
      totp_enabled: false,
    });

    const out = await m.ok(["logout", "--json"]);
    expect(out.json()).toMatchObject({ logged_out: true, session_revoked: true });
    expect(existsSync(file)).toBe(false);
    // The session is over on the server too: the old access token no longer works.
    expect((await t.api("GET", "/v1/auth/me", { token: stored.tokens.access_token })).status).toBe(401);

    const after = await m.run(["whoami"]);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain("not logged in: run `warren login`");
  });

  it("prints the server's message and exits 1 on a wrong password; 2 on a usage error", async () => {
    const { user } = await register(t.api);
    const m = machine(t.url);
    const [wrong, wrongJson, usage, noServer] = await Promise.all([
      m.run(["login", "--username", user.username, "--password-stdin"], { input: "not the password\n" }),
      m.run(["login", "--username", user.username, "--password-stdin", "--json"], {
        input: "nope nope nope\n",
      }),
      m.run(["login", "--no-such-flag"]),
      m.run(["login", "--username", "x", "--password-stdin"], {
        input: "p\n",
        env: { WARREN_SERVER: undefined },
      }),
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("error: Wrong username or password (invalid_credentials)");
    expect(wrongJson.code).toBe(1);
    expect(JSON.parse(wrongJson.stderr).error).toMatchObject({ code: "invalid_credentials", status: 401 });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("unknown option");
    expect(noServer.code).toBe(2);
    expect(noServer.stderr).toContain("--server");
    expect(existsSync(path.join(m.configDir, "credentials.json"))).toBe(false);
  });

  it("asks for the second factor: --totp, and a clear error without it", async () => {
    const { user, tokens } = await register(t.api);
    const secret = await enableTotp(t, tokens.access_token);
    const m = machine(t.url);
    const args = ["login", "--username", user.username, "--password-stdin"];
    const missing = await m.run(args, { input: `${PASSWORD}\n` });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("This account needs a two-factor code: pass --totp CODE");

    const ok = await m.ok([...args, "--totp", await totpCode(secret), "--json"], { input: `${PASSWORD}\n` });
    expect(ok.json()).toMatchObject({ server: t.url, user: { id: user.id } });
    expect((await m.ok(["whoami", "--json"])).json().totp_enabled).toBe(true);
  });

  it.skipIf(!hasPython)(
    "prompts on a terminal: username, password without echo, then the TOTP code",
    async () => {
      const { user, tokens } = await register(t.api);
      const secret = await enableTotp(t, tokens.access_token);
      const configDir = tempDir();
      const env = { WARREN_CONFIG_DIR: configDir, WARREN_SERVER: t.url };
      const code = await totpCode(secret);
      const { code: exit, screen } = await runOnTerminal(["login"], env, [
        ["Username: ", user.username],
        ["Password: ", PASSWORD],
        ["Two-factor code: ", code],
      ]);
      expect(exit, screen).toBe(0);
      expect(screen).toContain(`logged in to ${t.url} as ${user.username}`);
      expect(screen).toContain(user.username); // echoed
      expect(screen).not.toContain(PASSWORD); // not echoed
      expect(statSync(path.join(configDir, "credentials.json")).mode & 0o777).toBe(0o600);
    },
  );

  it("signs in with --key: a base64 seed file, and a PKCS#8 PEM file found by its public key", async () => {
    const seed = generateEd25519();
    const username = uniqueName("key");
    await register(t.api, { username, password: undefined, public_key: seed.publicKey });
    const dir = tempDir();
    const seedFile = path.join(dir, "seed.key");
    writeFileSync(seedFile, `${Buffer.from(seed.secretKey).toString("base64")}\n`, { mode: 0o600 });

    const pem = generateKeyPairSync("ed25519");
    const pemPublic = Buffer.from(pem.publicKey.export({ format: "jwk" }).x as string, "base64url").toString(
      "base64",
    );
    const pemUser = uniqueName("pem");
    await register(t.api, { username: pemUser, password: undefined, public_key: pemPublic });
    const pemFile = path.join(dir, "id.pem");
    writeFileSync(pemFile, pem.privateKey.export({ format: "pem", type: "pkcs8" }) as string, {
      mode: 0o600,
    });

    const a = machine(t.url);
    const b = machine(t.url);
    const [bySeed, byPem, bad] = await Promise.all([
      a.ok(["login", "--key", seedFile, "--username", username, "--json"]),
      b.ok(["login", "--key", pemFile]),
      machine(t.url).run(["login", "--key", path.join(dir, "missing.key")]),
    ]);
    expect(bySeed.json().user.username).toBe(username);
    expect(byPem.stdout).toContain(`as ${pemUser}`);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("missing.key");
    expect((await a.ok(["whoami", "--json"])).json().username).toBe(username);
    // The seed never went anywhere: only its signature did.
    expect(readFileSync(path.join(a.configDir, "credentials.json"), "utf8")).not.toContain(
      Buffer.from(seed.secretKey).toString("base64"),
    );
  });
});

describe("warren commands refreshing expired tokens side by side", { timeout: 120_000 }, () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(sqliteBackend, { ACCESS_TOKEN_TTL: "8s" });
  });
  afterAll(async () => {
    await t?.close();
    removeTempDirs();
  });

  it("keeps the session: one refresh at a time, the others take the tokens it saved", {
    timeout: 120_000,
  }, async () => {
    const { user } = await register(t.api);
    const m = machine(t.url);
    await m.ok(["login", "--username", user.username, "--password-stdin"], { input: `${PASSWORD}\n` });
    const file = path.join(m.configDir, "credentials.json");
    const before = JSON.parse(readFileSync(file, "utf8")).tokens;
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(before.expires_at) - Date.now() + 500)));

    // Three processes find the access token expired at once. Refreshing each with the
    // same single-use refresh token would revoke the session (refresh_reused).
    const runs = await Promise.all([1, 2, 3].map(() => m.run(["whoami", "--json"])));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const after = JSON.parse(readFileSync(file, "utf8")).tokens;
    expect(after.refresh_token).not.toBe(before.refresh_token);
    expect(after.session_id).toBe(before.session_id);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await m.ok(["whoami", "--json"])).json().id).toBe(user.id);
    expect(existsSync(path.join(m.configDir, "refresh.lock"))).toBe(false);
  });
});
