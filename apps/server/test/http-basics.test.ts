import { ERRORS } from "@warren/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "./helpers/backends.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

describe.each(backends())("HTTP basics on $name", (backend) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(backend, { BODY_LIMIT: "4KiB", ALLOWED_ORIGINS: "https://app.example" });
  });
  afterAll(async () => t?.close());

  it("answers /health without touching storage", async () => {
    const res = await t.api("GET", "/health");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok" });
  });

  it("answers /ready with the database dialect", async () => {
    const res = await t.api("GET", "/ready");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ready", database: backend.name });
  });

  it("answers unknown routes with 404 not_found in the error shape", async () => {
    const res = await t.api("GET", "/v1/nothing-here");
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
    expect(typeof res.body.error.message).toBe("string");
  });

  it("answers a body over the limit with 413 payload_too_large", async () => {
    const res = await t.api("POST", "/v1/auth/register", {
      body: { username: "bigbody", password: "x".repeat(8000) },
    });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("payload_too_large");
  });

  it("answers a non-JSON body with 415 unsupported_media_type", async () => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "application/xml"]) {
      const res = await t.api("POST", "/v1/auth/login", {
        raw: "username=a",
        headers: { "content-type": type },
      });
      expect(res.status, type).toBe(415);
      expect(res.body.error.code).toBe("unsupported_media_type");
    }
  });

  it("answers broken JSON with 400 invalid_json", async () => {
    const res = await t.api("POST", "/v1/auth/login", {
      raw: '{"username":',
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_json");
  });

  it("answers a schema failure with 400 invalid_request naming the field", async () => {
    const short = await t.api("POST", "/v1/auth/register", {
      body: { username: "ok_name", password: "short" },
    });
    expect(short.status).toBe(400);
    expect(short.body.error.code).toBe("invalid_request");
    expect(short.body.error.message).toContain("password");
    const missing = await t.api("POST", "/v1/auth/login", { body: { username: "someone" } });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toContain("password");
    const wrongType = await t.api("POST", "/v1/auth/register", {
      body: { username: 12345, password: "long enough pw" },
    });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error.message).toContain("username");
    const noBody = await t.api("POST", "/v1/auth/refresh");
    expect(noBody.status).toBe(400);
    expect(noBody.body.error.code).toBe("invalid_request");
  });

  it("serves OpenAPI 3.1 with the auth paths, and a docs page", async () => {
    const res = await t.api("GET", "/v1/openapi.json");
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe("3.1.0");
    for (const p of [
      "/v1/auth/register",
      "/v1/auth/login",
      "/v1/auth/challenge",
      "/v1/auth/verify",
      "/v1/users/{id}",
    ]) {
      expect(Object.keys(res.body.paths)).toContain(p);
    }
    const docs = await fetch(`${t.url}/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain("<html");
  });

  it("allows CORS only from ALLOWED_ORIGINS", async () => {
    const ok = await fetch(`${t.url}/health`, { headers: { origin: "https://app.example" } });
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://app.example");
    const other = await fetch(`${t.url}/health`, { headers: { origin: "https://evil.example" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("documents every error code with a status in the one table", () => {
    for (const [code, { status }] of Object.entries(ERRORS)) {
      expect(code).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(status).toBeGreaterThanOrEqual(400);
    }
  });

  it("answers /ready with 503 once the database is gone", async () => {
    const other = await startTestServer(backend);
    try {
      await other.server.database.close();
      const res = await other.api("GET", "/ready");
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe("service_unavailable");
      const health = await other.api("GET", "/health");
      expect(health.status).toBe(200);
    } finally {
      await other.close();
    }
  });
});
