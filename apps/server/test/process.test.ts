import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  freePort,
  json,
  loopback,
  removeTempDirs,
  runWarren,
  signal,
  startWarren,
  stderrLines,
  stopAll,
  tempDir,
  username,
} from "./helpers/process.js";

/**
 * Process-level tests: real `warren server` / `warren migrate` processes started the way
 * an operator starts them, checked from outside (stdout, stderr, exit code, files, HTTP).
 */
afterAll(async () => {
  await stopAll();
  removeTempDirs();
});

describe("first start with defaults, then restart", () => {
  afterEach(stopAll);

  it("creates ./data with the database and a 0600 signing key, says so once, and keeps tokens valid across a restart", async () => {
    const cwd = tempDir();
    const first = await startWarren({ cwd });
    expect(first.url).toBe(`http://localhost:${first.port}`);
    expect(first.stdout()).toContain(`warren is listening on http://localhost:${first.port}\n`);

    const dbFile = path.join(cwd, "data", "warren.db");
    const keyFile = path.join(cwd, "data", "signing.key");
    expect(existsSync(dbFile)).toBe(true);
    expect(existsSync(keyFile)).toBe(true);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const key = readFileSync(keyFile, "utf8");
    expect(Buffer.from(key.trim(), "base64url").length).toBeGreaterThanOrEqual(32);

    const generated = first.output().match(/generated a token signing key/g) ?? [];
    expect(generated).toHaveLength(1);
    expect(first.output()).toContain(keyFile);

    const name = username();
    const password = "correct horse battery";
    const reg = await json(loopback(first), "POST", "/v1/auth/register", {
      body: { username: name, password },
    });
    expect(reg.status).toBe(201);
    const access: string = reg.body.tokens.access_token;
    expect((await json(loopback(first), "GET", "/v1/auth/me", { token: access })).status).toBe(200);

    expect(await signal(first, "SIGTERM")).toEqual({ code: 0, signal: null });

    const second = await startWarren({ cwd });
    expect(second.output()).not.toMatch(/generated/);
    expect(readFileSync(keyFile, "utf8")).toBe(key);
    const me = await json(loopback(second), "GET", "/v1/auth/me", { token: access });
    expect(me.status).toBe(200);
    expect(me.body.username).toBe(name);
    // The account is in the database, not only in the token.
    const login = await json(loopback(second), "POST", "/v1/auth/login", {
      body: { username: name, password },
    });
    expect(login.status).toBe(200);
    expect(await signal(second, "SIGTERM")).toEqual({ code: 0, signal: null });
  });
});

describe.concurrent("a bad setting stops the server with one line", () => {
  afterAll(stopAll);

  const cases: {
    name: string;
    env?: Record<string, string>;
    args?: string[];
    names: string;
    hidden?: string;
  }[] = [
    { name: "PORT=abc", env: { PORT: "abc" }, names: "PORT" },
    { name: "--port 70000", args: ["--port", "70000"], names: "PORT" },
    { name: "LOG_LEVEL=loud", env: { LOG_LEVEL: "loud" }, names: "LOG_LEVEL" },
    { name: "DATABASE_URL=mysql://x", env: { DATABASE_URL: "mysql://x" }, names: "DATABASE_URL" },
    {
      name: "DATABASE_URL with a password",
      env: { DATABASE_URL: "mysql://admin:hunter2-db-pass@db.example/warren" },
      names: "DATABASE_URL",
      hidden: "hunter2-db-pass",
    },
    { name: "ACCESS_TOKEN_TTL=soon", env: { ACCESS_TOKEN_TTL: "soon" }, names: "ACCESS_TOKEN_TTL" },
    {
      name: "JWT_SECRET too short",
      env: { JWT_SECRET: "short-but-secret-value" },
      names: "JWT_SECRET",
      hidden: "short-but-secret-value",
    },
    { name: "NODE_ENV=production without JWT_SECRET", env: { NODE_ENV: "production" }, names: "JWT_SECRET" },
    {
      name: "HTTP_REDIRECT_PORT without TLS",
      env: { HTTP_REDIRECT_PORT: "8081" },
      names: "HTTP_REDIRECT_PORT",
    },
  ];

  for (const c of cases) {
    it(`${c.name} → exit 1, one stderr line naming ${c.names}`, async () => {
      const cwd = tempDir();
      const result = await runWarren("server", c.args ?? [], { cwd, env: { PORT: "0", ...c.env } });
      expect(result.code).toBe(1);
      const lines = stderrLines(result.stderr);
      expect(lines).toHaveLength(1);
      expect(result.stderr.endsWith("\n")).toBe(true);
      expect(lines[0]).toMatch(new RegExp(`^warren: ${c.names} must be `));
      if (c.hidden) expect(result.stderr + result.stdout).not.toContain(c.hidden);
      expect(result.stdout).not.toContain("listening");
      // Validation comes before any side effect.
      expect(existsSync(path.join(cwd, "data"))).toBe(false);
    });
  }
});

describe("flags and addresses", () => {
  afterEach(stopAll);

  it("flags win over the environment (even over a bad environment value)", async () => {
    const port = await freePort();
    const cwd = tempDir();
    const dataDir = path.join(tempDir(), "elsewhere");
    const server = await startWarren({
      cwd,
      env: { PORT: "abc", LOG_LEVEL: "loud", DATA_DIR: path.join(cwd, "not-here") },
      args: ["--port", String(port), "--log-level", "warn", "--data-dir", dataDir],
    });
    expect(server.port).toBe(port);
    expect(existsSync(path.join(dataDir, "signing.key"))).toBe(true);
    expect(existsSync(path.join(cwd, "not-here"))).toBe(false);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    // --log-level warn: the request above is not logged at info.
    expect(server.output()).not.toContain("incoming request");
  });

  it("SERVER_ADDR=127.0.0.1:<port> overrides HOST and PORT", async () => {
    const port = await freePort();
    const server = await startWarren({
      env: { SERVER_ADDR: `127.0.0.1:${port}`, PORT: "abc", HOST: "0.0.0.0" },
    });
    expect(server.url).toBe(`http://127.0.0.1:${port}`);
    expect(server.port).toBe(port);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
  });
});
