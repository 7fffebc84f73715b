import { randomBytes } from "node:crypto";
import http from "node:http";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  EXIT_BOUND_MS,
  json,
  logLines,
  loopback,
  removeTempDirs,
  signal,
  startWarren,
  stopAll,
  username,
} from "./helpers/process.js";

/**
 * Process-level tests, continued (process.test.ts): how a real `warren server` stops on
 * a signal, and what its logs leave out.
 */

afterAll(async () => {
  await stopAll();
  removeTempDirs();
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
