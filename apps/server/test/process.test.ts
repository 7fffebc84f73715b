import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  freePort,
  logLines,
  removeTempDirs,
  runWarren,
  type ServerProcess,
  startWarren,
  stopAll,
  tempDir,
} from "./helpers/process.js";

/**
 * Process-level tests: real `warren server` / `warren migrate` processes started the way
 * an operator starts them, checked from outside (stdout, stderr, exit code, files, HTTP).
 */

afterAll(async () => {
  await stopAll();
  removeTempDirs();
});

const EXIT_BOUND_MS = 8_000;

function username(): string {
  return `u_${randomBytes(5).toString("hex")}`;
}

/** The parts of JSON answers these tests read (absent ones are undefined at run time). */
interface Answer {
  tokens: { access_token: string; refresh_token: string };
  username: string;
  error: { code: string; message: string };
}

async function json(
  base: string,
  method: string,
  route: string,
  options: { body?: unknown; token?: string } = {},
): Promise<{ status: number; body: Answer }> {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const res = await fetch(`${base}${route}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Answer };
}

/** The server on loopback by its port (the printed URL may say localhost). */
function loopback(server: ServerProcess): string {
  return `http://127.0.0.1:${server.port}`;
}

async function signal(server: ServerProcess, name: NodeJS.Signals) {
  server.child.kill(name);
  return server.waitForExit(EXIT_BOUND_MS);
}

function stderrLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l.length > 0);
}

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

/** A POST whose body arrives in two parts, the second when the test says so. */
function slowRequest(port: number, route: string, body: string) {
  const half = Math.floor(body.length / 2);
  const req = http.request({
    host: "127.0.0.1",
    port,
    method: "POST",
    path: route,
    agent: false,
    headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
  });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        text += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
  response.catch(() => {});
  req.write(body.slice(0, half));
  return {
    response,
    finish: () => req.end(body.slice(half)),
  };
}

/** A fresh connection's GET: the status, or the error code if the connection failed. */
function freshGet(port: number, route: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: route, agent: false, timeout: 5_000 }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

describe("graceful shutdown", () => {
  afterEach(stopAll);

  it("SIGINT stops an idle server with exit 0", async () => {
    const server = await startWarren();
    const started = Date.now();
    expect(await signal(server, "SIGINT")).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(EXIT_BOUND_MS);
    expect(server.output()).toMatch(/"signal":"SIGINT".*shutting down/);
  });

  it("SIGTERM lets an in-flight request finish, refuses new work, then exits 0", async () => {
    const server = await startWarren();
    const slow = slowRequest(
      server.port,
      "/v1/auth/register",
      JSON.stringify({ username: username(), password: "in flight password" }),
    );
    await server.waitFor(/"url":"\/v1\/auth\/register".*"incoming request"/, 10_000);

    server.child.kill("SIGTERM");
    await server.waitFor(/shutting down/, 5_000);
    // Give the listener a moment to close, then try a new connection.
    await new Promise((r) => setTimeout(r, 200));
    const late = await freshGet(server.port, "/health");
    expect(["ECONNREFUSED", "ECONNRESET", 503]).toContain(late);
    // Still running: the request in flight holds the shutdown.
    expect(server.child.exitCode).toBeNull();

    slow.finish();
    const res = await slow.response;
    expect(res.status).toBe(201);
    expect(JSON.parse(res.body).tokens.access_token).toEqual(expect.any(String));
    expect(await server.waitForExit(EXIT_BOUND_MS)).toEqual({ code: 0, signal: null });
  });

  it("a request that never finishes does not hold the exit past SHUTDOWN_TIMEOUT", async () => {
    const server = await startWarren({ env: { SHUTDOWN_TIMEOUT: "1s" } });
    const stuck = slowRequest(
      server.port,
      "/v1/auth/register",
      JSON.stringify({ username: username(), password: "never finished" }),
    );
    await server.waitFor(/"url":"\/v1\/auth\/register".*"incoming request"/, 10_000);
    const started = Date.now();
    server.child.kill("SIGTERM");
    expect(await server.waitForExit(EXIT_BOUND_MS)).toEqual({ code: 0, signal: null });
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(6_000); // the default SHUTDOWN_TIMEOUT would take 10 s
    await expect(stuck.response).rejects.toThrow();
  });
});

const CLIENT_ADDRESS = /127\.0\.0\.1|::ffff:|"ip"|"ips"|remoteAddress|remotePort/;

/** Signs up, in, refreshes, and calls /me every way; returns every secret the server saw. */
async function exerciseAuth(base: string): Promise<string[]> {
  const name = username();
  const password = `pw-${randomBytes(8).toString("hex")}`;
  const wrong = `wrong-${randomBytes(8).toString("hex")}`;
  const secrets = [password, wrong];

  const reg = await json(base, "POST", "/v1/auth/register", { body: { username: name, password } });
  expect(reg.status).toBe(201);
  secrets.push(reg.body.tokens.access_token, reg.body.tokens.refresh_token);

  const login = await json(base, "POST", "/v1/auth/login", { body: { username: name, password } });
  expect(login.status).toBe(200);
  secrets.push(login.body.tokens.access_token, login.body.tokens.refresh_token);

  const failed = await json(base, "POST", "/v1/auth/login", { body: { username: name, password: wrong } });
  expect(failed.status).toBe(401);

  const refreshed = await json(base, "POST", "/v1/auth/refresh", {
    body: { refresh_token: login.body.tokens.refresh_token },
  });
  expect(refreshed.status).toBe(200);
  const access: string = refreshed.body.tokens.access_token;
  secrets.push(access, refreshed.body.tokens.refresh_token);

  // Reusing the rotated refresh token: refresh_reused, logged as an event.
  const reused = await json(base, "POST", "/v1/auth/refresh", {
    body: { refresh_token: login.body.tokens.refresh_token },
  });
  expect(reused.status).toBe(401);

  expect((await json(base, "GET", "/v1/auth/me", { token: reg.body.tokens.access_token })).status).toBe(200);
  // Tokens in the query string must not be logged either (they are not accepted there).
  for (const param of ["token", "access_token"]) {
    const res = await fetch(`${base}/v1/auth/me?${param}=${encodeURIComponent(access)}`);
    await res.text();
    expect(res.status).toBe(401);
  }
  // Bodies that fail: a schema failure and malformed JSON, both carrying the password.
  const invalid = await json(base, "POST", "/v1/auth/register", { body: { username: "!", password } });
  expect(invalid.status).toBe(400);
  const malformed = await fetch(`${base}/v1/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: `{"username":"${name}","password":"${password}"`,
  });
  await malformed.text();
  expect(malformed.status).toBe(400);
  // A bad bearer header carrying a token-like value.
  const badHeader = await fetch(`${base}/v1/auth/me`, { headers: { authorization: `Token ${access}` } });
  await badHeader.text();
  expect(badHeader.status).toBe(401);
  return secrets;
}

describe("logs", () => {
  afterEach(stopAll);

  it("at trace level carry no password, token or client address", async () => {
    const server = await startWarren({ env: { LOG_LEVEL: "trace" } });
    const secrets = await exerciseAuth(loopback(server));
    expect(await signal(server, "SIGTERM")).toEqual({ code: 0, signal: null });

    const output = server.output();
    const lines = logLines(output);
    // The requests were logged (so the checks below looked at something).
    expect(lines.filter((l) => l.msg === "incoming request").length).toBeGreaterThanOrEqual(10);
    expect(output).toContain("[redacted]");
    for (const secret of secrets) expect(output).not.toContain(secret);
    for (const line of output.split("\n")) {
      if (line.includes("Server listening at")) continue; // the server's own addresses
      expect(line).not.toMatch(CLIENT_ADDRESS);
    }
  });

  it("with LOG_CLIENT_IP=true request lines carry the client address (and still no secrets)", async () => {
    const server = await startWarren({ env: { LOG_CLIENT_IP: "true" } });
    const secrets = await exerciseAuth(loopback(server));
    await signal(server, "SIGTERM");
    const output = server.output();
    const incoming = logLines(output).filter((l) => l.msg === "incoming request");
    expect(incoming.length).toBeGreaterThanOrEqual(10);
    for (const line of incoming) {
      expect((line.req as { ip?: string }).ip).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
    }
    for (const secret of secrets) expect(output).not.toContain(secret);
  });
});

describe("warren migrate", () => {
  afterEach(stopAll);

  it("applies migrations to a fresh SQLite file, then finds it up to date", async () => {
    const dbPath = path.join(tempDir(), "nested", "dir", "fresh.db");
    const first = await runWarren("migrate", [], { env: { DB_PATH: dbPath } });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^applied \d+ migration\(s\): \S+/m);
    expect(first.stderr).toBe("");
    expect(existsSync(dbPath)).toBe(true);

    const second = await runWarren("migrate", ["--db-path", dbPath]);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe("database is up to date\n");
    expect(second.stderr).toBe("");
  });

  it("stops on a bad setting with one line", async () => {
    const result = await runWarren("migrate", [], { env: { DATABASE_URL: "mysql://x" } });
    expect(result.code).toBe(1);
    expect(stderrLines(result.stderr)).toEqual([expect.stringMatching(/^warren: DATABASE_URL must be /)]);
  });
});

const POSTGRES_URL = process.env.WARREN_TEST_POSTGRES || undefined;

if (!POSTGRES_URL) {
  console.warn(
    "process tests on PostgreSQL not run: set WARREN_TEST_POSTGRES=postgres://user@host:5432/db to include them",
  );
} else {
  const adminUrl = POSTGRES_URL;
  describe("PostgreSQL", () => {
    const created: string[] = [];
    async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
      await client.connect();
      try {
        return await fn(client);
      } finally {
        await client.end();
      }
    }
    async function freshDatabase(): Promise<string> {
      const name = `warren_t_${randomBytes(6).toString("hex")}`;
      await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`));
      created.push(name);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return url.toString();
    }

    afterEach(stopAll);
    afterAll(async () => {
      await stopAll();
      for (const name of created)
        await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    });

    it("warren migrate applies migrations once, then finds the database up to date", async () => {
      const databaseUrl = await freshDatabase();
      const cwd = tempDir();
      const first = await runWarren("migrate", [], { cwd, env: { DATABASE_URL: databaseUrl } });
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/^applied \d+ migration\(s\): \S+/m);
      const second = await runWarren("migrate", ["--database-url", databaseUrl], { cwd });
      expect(second.code).toBe(0);
      expect(second.stdout).toBe("database is up to date\n");
      // PostgreSQL only: no SQLite file appears.
      expect(existsSync(path.join(cwd, "data", "warren.db"))).toBe(false);
      const tables = await withClient(databaseUrl, (db) =>
        db.query("select table_name from information_schema.tables where table_schema = 'public'"),
      );
      const names = tables.rows.map((row: { table_name: string }) => row.table_name);
      expect(names).toEqual(expect.arrayContaining(["users", "sessions", "audit_events"]));
    });

    it("the server runs on DATABASE_URL, is ready, and serves sign-up", async () => {
      const databaseUrl = await freshDatabase();
      const server = await startWarren({ env: { DATABASE_URL: databaseUrl } });
      expect((await fetch(`${loopback(server)}/ready`)).status).toBe(200);
      const reg = await json(loopback(server), "POST", "/v1/auth/register", {
        body: { username: username(), password: "postgres password" },
      });
      expect(reg.status).toBe(201);
      expect(await signal(server, "SIGTERM")).toEqual({ code: 0, signal: null });
    });
  });
}
