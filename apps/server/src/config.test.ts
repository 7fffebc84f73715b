import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, flagOf, loadConfig, mergeSettings, SETTINGS } from "./config.js";

describe("config", () => {
  it("has working defaults: port 8080, SQLite under ./data, 15-minute access tokens", () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.dbPath).toBe(path.resolve("data/warren.db"));
    expect(c.databaseUrl).toBeUndefined();
    expect(c.accessTokenTtlMs).toBe(15 * 60_000);
    expect(c.refreshTokenTtlMs).toBe(30 * 86_400_000);
    expect(c.logClientIp).toBe(false);
    expect(c.listenBacklog).toBe(4096);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it("reads SERVER_ADDR (host:port, kept for older deployments) over HOST and PORT", () => {
    expect(loadConfig({ SERVER_ADDR: ":9000", PORT: "1" })).toMatchObject({ host: "0.0.0.0", port: 9000 });
    expect(loadConfig({ SERVER_ADDR: "127.0.0.1:9001" })).toMatchObject({ host: "127.0.0.1", port: 9001 });
    expect(loadConfig({ SERVER_ADDR: "[::1]:9002" })).toMatchObject({ host: "::1", port: 9002 });
  });

  it.each([
    ["PORT", "abc"],
    ["PORT", "70000"],
    ["LOG_LEVEL", "loud"],
    ["DATABASE_URL", "mysql://x/y"],
    ["REDIS_URL", "http://x"],
    ["ACCESS_TOKEN_TTL", "soon"],
    ["JWT_SECRET", "short"],
    ["LOG_CLIENT_IP", "maybe"],
    ["BODY_LIMIT", "huge"],
    ["SERVER_ADDR", "nope"],
    ["NODE_ENV", "staging"],
    ["LISTEN_BACKLOG", "0"],
    ["LISTEN_BACKLOG", "many"],
  ])("stops on %s=%s with a message naming the variable", (name, value) => {
    const run = () => loadConfig({ [name]: value });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(new RegExp(`^${name} must be `));
  });

  it("requires JWT_SECRET and DATA_ENCRYPTION_KEY in production", () => {
    expect(() => loadConfig({ NODE_ENV: "production" })).toThrow(/^JWT_SECRET must be set/);
    expect(() => loadConfig({ NODE_ENV: "production", JWT_SECRET: "x".repeat(32) })).toThrow(
      /^DATA_ENCRYPTION_KEY must be set/,
    );
    const key = "ab".repeat(32);
    const c = loadConfig({ NODE_ENV: "production", JWT_SECRET: "x".repeat(32), DATA_ENCRYPTION_KEY: key });
    expect(c.jwtSecret).toBe("x".repeat(32));
    expect(c.dataEncryptionKey?.toString("hex")).toBe(key);
  });

  it("reads data keys as hex or base64, and never echoes them", () => {
    const raw = Buffer.alloc(32, 7);
    expect(loadConfig({ DATA_ENCRYPTION_KEY: raw.toString("base64") }).dataEncryptionKey).toEqual(raw);
    expect(
      loadConfig({ DATA_ENCRYPTION_OLD_KEYS: `${raw.toString("hex")}, ${raw.toString("base64url")}` })
        .dataEncryptionOldKeys,
    ).toEqual([raw, raw]);
    expect(() => loadConfig({ DATA_ENCRYPTION_KEY: "tooshort" })).toThrow(
      /^DATA_ENCRYPTION_KEY must be .*\[redacted\]/,
    );
  });

  it("needs TLS_CERT and TLS_KEY together, and the redirect only with TLS", () => {
    expect(() => loadConfig({ TLS_CERT: "c.pem" })).toThrow(/^TLS_KEY/);
    expect(() => loadConfig({ HTTP_REDIRECT_PORT: "8081" })).toThrow(/^HTTP_REDIRECT_PORT/);
    expect(loadConfig({ TLS_CERT: "c", TLS_KEY: "k", HTTP_REDIRECT_PORT: "80" }).httpRedirectPort).toBe(80);
  });

  it("parses durations, sizes and lists", () => {
    const c = loadConfig({
      ACCESS_TOKEN_TTL: "90",
      CHALLENGE_TTL: "500ms",
      BODY_LIMIT: "64KiB",
      ALLOWED_ORIGINS: "a, b,,",
    });
    expect(c.accessTokenTtlMs).toBe(90_000);
    expect(c.challengeTtlMs).toBe(500);
    expect(c.bodyLimit).toBe(65536);
    expect(c.allowedOrigins).toEqual(["a", "b"]);
  });

  it("lets flags win over the environment, and names every flag after its variable", () => {
    expect(mergeSettings({ PORT: "1", LOG_LEVEL: "warn" }, { PORT: "2" })).toMatchObject({
      PORT: "2",
      LOG_LEVEL: "warn",
    });
    expect(flagOf("DB_PATH")).toBe("--db-path");
    expect(new Set(SETTINGS.map((s) => s.env)).size).toBe(SETTINGS.length);
  });
});

describe("TRUST_PROXY", () => {
  it("takes a boolean, a hop count or a list of proxies", () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: "true" }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: "1" }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: "10.0.0.1, 192.168.0.0/16" }).trustProxy).toEqual([
      "10.0.0.1",
      "192.168.0.0/16",
    ]);
    expect(() => loadConfig({ TRUST_PROXY: "the proxy" })).toThrow(/^TRUST_PROXY must be/);
  });
});
