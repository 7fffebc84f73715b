import { createHash, randomBytes } from "node:crypto";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Secret, TOTP } from "otpauth";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type Env, removeTempDirs, runWarren, startWarren, stopAll, tempDir } from "./helpers/process.js";
import { type Api, apiFor, PASSWORD } from "./helpers/server.js";

/**
 * TOTP secrets at rest: sealed with DATA_ENCRYPTION_KEY, still readable under a retired
 * key listed in DATA_ENCRYPTION_OLD_KEYS (and as plaintext from before sealing), and
 * re-sealed with the current key by `warren-server rotate-keys`, after which the old key
 * can go. Real server processes on one SQLite file.
 */

const PERIOD_MS = 30_000;
const K1 = randomBytes(32).toString("hex");
const K2 = randomBytes(32).toString("base64");
const idOf = (key: Buffer) => createHash("sha256").update(key).digest("hex").slice(0, 16);
const K1_ID = idOf(Buffer.from(K1, "hex"));
const K2_ID = idOf(Buffer.from(K2, "base64"));

async function currentCode(secret: string): Promise<string> {
  const into = Date.now() % PERIOD_MS;
  if (into > PERIOD_MS - 3_000) await new Promise((r) => setTimeout(r, PERIOD_MS - into + 50));
  return new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: "SHA1" }).generate();
}

afterEach(async () => {
  await stopAll();
});
afterAll(() => {
  removeTempDirs();
});

describe("TOTP secrets sealed at rest", { timeout: 240_000 }, () => {
  it("seals with the data key, reads old and plaintext rows, and re-seals on rotation", async () => {
    const dir = tempDir();
    const base: Env = {
      DATA_DIR: path.join(dir, "data"),
      JWT_SECRET: "encryption-test-secret-encryption-test-0123",
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
    };
    const dbFile = path.join(dir, "data/warren.db");
    const rows = () => {
      const db = new BetterSqlite3(dbFile, { readonly: true });
      try {
        return Object.fromEntries(
          (
            db.prepare("SELECT username, totp_secret FROM users").all() as {
              username: string;
              totp_secret: string;
            }[]
          ).map((r) => [r.username, r.totp_secret]),
        );
      } finally {
        db.close();
      }
    };
    /** Each time step works once per account: let the next phase use the current one again. */
    const forgetUsedSteps = () => {
      const db = new BetterSqlite3(dbFile);
      db.prepare("UPDATE users SET totp_last_step = NULL").run();
      db.close();
    };
    const start = async (env: Env) => {
      const server = await startWarren({ cwd: dir, env: { ...base, ...env } });
      return { server, api: apiFor(server.url.replace("localhost", "127.0.0.1")) };
    };
    const login = async (api: Api, username: string, secret: string) =>
      (
        await api("POST", "/v1/auth/login", {
          body: { username, password: PASSWORD, totp: await currentCode(secret) },
        })
      ).status;

    // Sealed with K1.
    const first = await start({ DATA_ENCRYPTION_KEY: K1 });
    const secrets: Record<string, string> = {};
    for (const username of ["sealed1", "legacy1"]) {
      const reg = await first.api("POST", "/v1/auth/register", { body: { username, password: PASSWORD } });
      expect(reg.status).toBe(201);
      const token = reg.body.tokens.access_token as string;
      const setup = await first.api("POST", "/v1/auth/totp", { token });
      expect(setup.status).toBe(200);
      secrets[username] = setup.body.secret as string;
      const confirm = await first.api("POST", "/v1/auth/totp/confirm", {
        token,
        body: { code: await currentCode(setup.body.secret) },
      });
      expect(confirm.status).toBe(200);
    }
    await first.server.kill();
    const sealed = rows();
    for (const username of ["sealed1", "legacy1"]) {
      expect(sealed[username]).toMatch(new RegExp(`^sealed:v1:${K1_ID}:[A-Za-z0-9_-]+$`));
      expect(sealed[username]).not.toContain(secrets[username]);
    }
    // A row written before sealing existed: plaintext.
    const db = new BetterSqlite3(dbFile);
    db.prepare("UPDATE users SET totp_secret = ? WHERE username = ?").run(secrets.legacy1, "legacy1");
    db.close();
    forgetUsedSteps();

    // K2 is current, K1 retired: every row still opens; rotate-keys re-seals with K2.
    const rotating = { DATA_ENCRYPTION_KEY: K2, DATA_ENCRYPTION_OLD_KEYS: K1 };
    const second = await start(rotating);
    expect(await login(second.api, "sealed1", secrets.sealed1 as string)).toBe(200);
    expect(await login(second.api, "legacy1", secrets.legacy1 as string)).toBe(200);
    const rotated = await runWarren("rotate-keys", [], { cwd: dir, env: { ...base, ...rotating } });
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toContain(`re-sealed 2 secret(s) with key ${K2_ID}; 0 already were`);
    await second.server.kill();
    for (const value of Object.values(rows())) expect(value).toMatch(new RegExp(`^sealed:v1:${K2_ID}:`));
    forgetUsedSteps();

    // K1 gone: everything opens with K2 alone; a wrong code still fails.
    const third = await start({ DATA_ENCRYPTION_KEY: K2 });
    expect(await login(third.api, "sealed1", secrets.sealed1 as string)).toBe(200);
    expect(await login(third.api, "legacy1", secrets.legacy1 as string)).toBe(200);
    const wrong = await third.api("POST", "/v1/auth/login", {
      body: { username: "sealed1", password: PASSWORD, totp: "000000" },
    });
    expect(wrong.status).toBe(401);
    await third.server.kill();

    // A server given only the retired key cannot open the rows, and says which key it lacks.
    const lost = await runWarren("rotate-keys", [], { cwd: dir, env: { ...base, DATA_ENCRYPTION_KEY: K1 } });
    expect(lost.code).toBe(1);
    expect(lost.stderr).toContain(`sealed with key ${K2_ID}`);
  });

  it("generates a key under DATA_DIR outside production and refuses to start without one in production", async () => {
    const dir = tempDir();
    const env: Env = { DATA_DIR: path.join(dir, "data"), HOST: "127.0.0.1", LOG_LEVEL: "warn" };
    const server = await startWarren({ cwd: dir, env });
    await server.waitFor(/generated a data encryption key at .*data\.key/);
    await server.kill();
    const prod = await runWarren("server", [], {
      cwd: dir,
      env: { ...env, NODE_ENV: "production", JWT_SECRET: "x".repeat(32) },
    });
    expect(prod.code).toBe(1);
    expect(prod.stderr).toMatch(/DATA_ENCRYPTION_KEY must be set when NODE_ENV=production/);
  });
});
