import path from "node:path";
import {
  parseAddress,
  parseBool,
  parseBytes,
  parseDuration,
  parseEnum,
  parseList,
  parsePort,
  parsePositiveInt,
  parsePositiveNumber,
  parseTrustProxy,
  parseUrl,
} from "./config-parse.js";

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
const NODE_ENVS = ["development", "production", "test"] as const;

/**
 * Every setting the server reads: its environment variable, the `warren server` flag
 * that overrides it, the default, and what it means. The README's configuration table
 * is generated from this list (npm run docs), so the two cannot drift.
 */
export const SETTINGS = [
  {
    env: "NODE_ENV",
    default: "development",
    doc: "`production` requires JWT_SECRET; anything else may generate a signing key.",
  },
  { env: "PORT", default: "8080", doc: "TCP port for HTTP (or HTTPS when TLS_CERT is set)." },
  { env: "HOST", default: "0.0.0.0", doc: "Interface to listen on." },
  {
    env: "SERVER_ADDR",
    default: "",
    doc: "The seeds' `host:port` form (`:8080`, `127.0.0.1:9000`); overrides HOST and PORT.",
  },
  { env: "DATA_DIR", default: "./data", doc: "Directory for the SQLite file and the generated signing key." },
  {
    env: "DB_PATH",
    default: "<DATA_DIR>/warren.db",
    doc: "SQLite database file, used when DATABASE_URL is not set.",
  },
  {
    env: "DATABASE_URL",
    default: "",
    doc: "`postgres://user:pass@host:5432/db` selects PostgreSQL instead of SQLite.",
  },
  { env: "DATABASE_POOL_SIZE", default: "10", doc: "PostgreSQL connections per server process." },
  {
    env: "REDIS_URL",
    default: "",
    doc: "`redis://host:6379` keeps sign-in rate limits in Redis, shared by all instances.",
  },
  {
    env: "JWT_SECRET",
    default: "",
    doc: "HS256 signing secret, at least 32 characters. Required in production; otherwise generated under DATA_DIR on first start.",
  },
  { env: "ACCESS_TOKEN_TTL", default: "15m", doc: "Lifetime of access tokens (JWT)." },
  { env: "REFRESH_TOKEN_TTL", default: "30d", doc: "Lifetime of refresh tokens and of an idle session." },
  { env: "CHALLENGE_TTL", default: "60s", doc: "Lifetime of a key sign-in challenge." },
  { env: "TOTP_ISSUER", default: "warren", doc: "Issuer name shown in authenticator apps." },
  {
    env: "LOGIN_MAX_FAILURES",
    default: "10",
    doc: "Failed sign-ins allowed per account within LOGIN_FAILURE_WINDOW before 429.",
  },
  {
    env: "LOGIN_MAX_FAILURES_PER_IP",
    default: "50",
    doc: "Failed sign-ins allowed per client address within LOGIN_FAILURE_WINDOW before 429.",
  },
  {
    env: "LOGIN_FAILURE_WINDOW",
    default: "15m",
    doc: "Window (and lockout length) for the sign-in failure limits.",
  },
  { env: "LOG_LEVEL", default: "info", doc: `One of ${LOG_LEVELS.join(", ")}.` },
  { env: "LOG_CLIENT_IP", default: "false", doc: "Write client IP addresses into request logs." },
  { env: "AUDIT_CLIENT_IP", default: "false", doc: "Record client IP addresses in audit events." },
  {
    env: "TRUST_PROXY",
    default: "false",
    doc: "Take the client address from X-Forwarded-For: `true` trusts every hop, a number trusts that many hops, or a comma-separated list of proxy addresses/CIDRs. Set only behind a reverse proxy.",
  },
  {
    env: "ALLOWED_ORIGINS",
    default: "",
    doc: "Comma-separated browser origins allowed by CORS and for WebSocket upgrades (403 otherwise). Empty: no cross-origin REST calls; WebSocket upgrades from any origin.",
  },
  { env: "BODY_LIMIT", default: "1MiB", doc: "Largest request body accepted (413 above it)." },
  { env: "TLS_CERT", default: "", doc: "PEM certificate file; with TLS_KEY the server speaks HTTPS." },
  { env: "TLS_KEY", default: "", doc: "PEM private key file for TLS_CERT." },
  { env: "HTTP_REDIRECT_PORT", default: "", doc: "With TLS on, plain HTTP on this port redirects to HTTPS." },
  {
    env: "SHUTDOWN_TIMEOUT",
    default: "10s",
    doc: "On SIGTERM/SIGINT, how long WebSockets and in-flight requests get, together, to finish.",
  },
  {
    env: "MAX_MESSAGE_BYTES",
    default: "64KiB",
    doc: "Largest WebSocket frame accepted; a bigger one closes the socket with 1009.",
  },
  {
    env: "SLOW_CLIENT_BYTES",
    default: "4MiB",
    doc: "Unsent bytes a socket may queue before it is closed with 1013 (a client that does not read).",
  },
  {
    env: "HEARTBEAT_INTERVAL",
    default: "25s",
    doc: "How often the server pings each socket; a socket that misses two pings is dropped.",
  },
  {
    env: "HANDSHAKE_TIMEOUT",
    default: "10s",
    doc: "A socket must finish its upgrade and send one valid frame within this time.",
  },
  {
    env: "MESSAGE_RATE_LIMIT",
    default: "20",
    doc: "Frames per second per user, across all their sockets (token bucket refill).",
  },
  { env: "MESSAGE_BURST_LIMIT", default: "50", doc: "Token bucket size: frames a user may send at once." },
  {
    env: "UPGRADE_RATE_LIMIT",
    default: "60",
    doc: "WebSocket upgrades per client address per minute (429 above it).",
  },
  { env: "MAX_CLIENTS_PER_ROOM", default: "50", doc: "Default and largest member count of a room." },
  {
    env: "ROOM_GRACE_PERIOD",
    default: "30s",
    doc: "How long a dropped connection keeps its room seats for a reconnect.",
  },
  { env: "ROOM_KICK_BAN", default: "10m", doc: "How long a user kicked from a room may not rejoin it." },
  {
    env: "ROOM_PASSWORD_MAX_FAILURES",
    default: "5",
    doc: "Wrong room passwords per user and room within LOGIN_FAILURE_WINDOW before rate_limited.",
  },
  { env: "ROOM_EXPIRY_DAYS", default: "7", doc: "Rooms with no activity for this many days are removed." },
  {
    env: "CLEANUP_INTERVAL",
    default: "1h",
    doc: "How often expired rooms and expired direct-message copies are looked for, and old analytics removed.",
  },
  {
    env: "MESSAGE_TTL_DAYS",
    default: "30",
    doc: "Direct-message copies not delivered within this many days expire (fractions allowed) and their senders are told.",
  },
  {
    env: "ALLOW_UNVERIFIED",
    default: "false",
    doc: "Store direct messages signed with a key the sender has not registered (marked `unverified`) instead of refusing them.",
  },
  {
    env: "ALLOW_UNSIGNED",
    default: "false",
    doc: "Store direct messages without a signature (marked `unsigned`) instead of refusing them.",
  },
  {
    env: "RECONNECT_AFTER",
    default: "2s",
    doc: "On shutdown, how long clients are told to wait before reconnecting.",
  },
  {
    env: "ADMIN_USERS",
    default: "",
    doc: "Comma-separated usernames (or user ids) of server admins: they may run admin-only server commands and read /v1/analytics. The first account created on an empty server is an admin too.",
  },
  {
    env: "ANALYTICS_RETENTION_DAYS",
    default: "400",
    doc: "Analytics (hub sessions, active users, message counts) older than this many days are removed by the cleanup loop.",
  },
  {
    env: "ANALYTICS_FLUSH_INTERVAL",
    default: "60s",
    doc: "How often message counts kept in memory are added to the database (and at midnight UTC and shutdown).",
  },
  {
    env: "STATS_TOKEN",
    default: "",
    doc: "When set, GET /stats requires `Authorization: Bearer <STATS_TOKEN>` (or ?token=).",
  },
] as const;

export type SettingName = (typeof SETTINGS)[number]["env"];
export type RawSettings = Partial<Record<SettingName, string | undefined>>;

export interface Config {
  nodeEnv: (typeof NODE_ENVS)[number];
  host: string;
  port: number;
  dataDir: string;
  dbPath: string;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  redisUrl: string | undefined;
  jwtSecret: string | undefined;
  accessTokenTtlMs: number;
  refreshTokenTtlMs: number;
  challengeTtlMs: number;
  totpIssuer: string;
  loginMaxFailures: number;
  loginMaxFailuresPerIp: number;
  loginFailureWindowMs: number;
  logLevel: (typeof LOG_LEVELS)[number];
  logClientIp: boolean;
  auditClientIp: boolean;
  /** Fastify's trustProxy: false, true, a hop count, or proxy addresses/CIDRs */
  trustProxy: boolean | number | string[];
  allowedOrigins: string[];
  bodyLimit: number;
  tls: { cert: string; key: string } | undefined;
  httpRedirectPort: number | undefined;
  shutdownTimeoutMs: number;
  adminUsers: string[];
  /** analytics (issue 6): what is kept how long, and how often counts reach the database */
  analytics: { retentionDays: number; flushIntervalMs: number };
  hub: HubConfig;
  messages: MessagesConfig;
}

/** Direct messages (issue 6). */
export interface MessagesConfig {
  /** undelivered copies expire after this long */
  ttlMs: number;
  allowUnverified: boolean;
  allowUnsigned: boolean;
}

export interface HubConfig {
  maxMessageBytes: number;
  slowClientBytes: number;
  heartbeatIntervalMs: number;
  handshakeTimeoutMs: number;
  messageRate: number;
  messageBurst: number;
  upgradesPerMinute: number;
  maxClientsPerRoom: number;
  roomGraceMs: number;
  roomKickBanMs: number;
  roomPasswordMaxFailures: number;
  roomExpiryMs: number;
  cleanupIntervalMs: number;
  reconnectAfterMs: number;
  statsToken: string | undefined;
}

/**
 * The value a config error may echo: JWT_SECRET never, and URLs (which can carry a
 * password) only from their host on.
 */
function shownValue(name: SettingName, value: string): string {
  if (name === "JWT_SECRET") return "[redacted]";
  if ((name === "DATABASE_URL" || name === "REDIS_URL") && value.includes("@")) {
    return `[redacted]${value.slice(value.lastIndexOf("@"))}`;
  }
  return value;
}

/** A bad setting: the server stops and prints this one line. */
export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    expects: string,
    value: string,
  ) {
    super(`${setting} must be ${expects} (got ${JSON.stringify(value)})`);
    this.name = "ConfigError";
  }
}

/** The flag that overrides a setting: PORT → --port, DB_PATH → --db-path. */
export function flagOf(env: string): string {
  return `--${env.toLowerCase().replaceAll("_", "-")}`;
}

/**
 * Builds the frozen config from raw values (environment merged with flags by the
 * caller). Empty strings count as unset.
 */
export function loadConfig(raw: RawSettings): Readonly<Config> {
  const get = (name: SettingName): string | undefined => {
    const v = raw[name];
    return v === undefined || v.trim() === "" ? undefined : v;
  };
  function read<T>(name: SettingName, parse: (v: string) => T, fallback: T): T;
  function read<T>(name: SettingName, parse: (v: string) => T): T | undefined;
  function read<T>(name: SettingName, parse: (v: string) => T, fallback?: T): T | undefined {
    const value = get(name);
    if (value === undefined) return fallback;
    try {
      return parse(value);
    } catch (err) {
      throw new ConfigError(name, (err as Error).message, shownValue(name, value));
    }
  }

  const nodeEnv = read("NODE_ENV", parseEnum(NODE_ENVS), "development");
  const address = read("SERVER_ADDR", parseAddress);
  const dataDir = path.resolve(read("DATA_DIR", (v) => v, "./data"));
  const jwtSecret = read("JWT_SECRET", (v) => {
    if (v.length < 32) throw new Error("at least 32 characters");
    return v;
  });
  if (nodeEnv === "production" && !jwtSecret) {
    throw new ConfigError("JWT_SECRET", "set when NODE_ENV=production (at least 32 characters)", "");
  }
  const tlsCert = get("TLS_CERT");
  const tlsKey = get("TLS_KEY");
  if (Boolean(tlsCert) !== Boolean(tlsKey)) {
    throw new ConfigError(tlsCert ? "TLS_KEY" : "TLS_CERT", "set together with the other TLS setting", "");
  }
  const httpRedirectPort = read("HTTP_REDIRECT_PORT", parsePort);
  if (httpRedirectPort !== undefined && !tlsCert) {
    throw new ConfigError(
      "HTTP_REDIRECT_PORT",
      "used only with TLS_CERT and TLS_KEY",
      String(httpRedirectPort),
    );
  }

  const config: Config = {
    nodeEnv,
    host: address?.host ?? read("HOST", (v) => v.trim(), "0.0.0.0"),
    port: address?.port ?? read("PORT", parsePort, 8080),
    dataDir,
    dbPath: path.resolve(read("DB_PATH", (v) => v, path.join(dataDir, "warren.db"))),
    databaseUrl: read("DATABASE_URL", parseUrl(["postgres:", "postgresql:"])),
    databasePoolSize: read("DATABASE_POOL_SIZE", parsePositiveInt, 10),
    redisUrl: read("REDIS_URL", parseUrl(["redis:", "rediss:"])),
    jwtSecret,
    accessTokenTtlMs: read("ACCESS_TOKEN_TTL", parseDuration, 15 * 60_000),
    refreshTokenTtlMs: read("REFRESH_TOKEN_TTL", parseDuration, 30 * 86_400_000),
    challengeTtlMs: read("CHALLENGE_TTL", parseDuration, 60_000),
    totpIssuer: read("TOTP_ISSUER", (v) => v.trim(), "warren"),
    loginMaxFailures: read("LOGIN_MAX_FAILURES", parsePositiveInt, 10),
    loginMaxFailuresPerIp: read("LOGIN_MAX_FAILURES_PER_IP", parsePositiveInt, 50),
    loginFailureWindowMs: read("LOGIN_FAILURE_WINDOW", parseDuration, 15 * 60_000),
    logLevel: read("LOG_LEVEL", parseEnum(LOG_LEVELS), "info"),
    logClientIp: read("LOG_CLIENT_IP", parseBool, false),
    auditClientIp: read("AUDIT_CLIENT_IP", parseBool, false),
    trustProxy: read("TRUST_PROXY", parseTrustProxy, false),
    allowedOrigins: read("ALLOWED_ORIGINS", parseList, []),
    bodyLimit: read("BODY_LIMIT", parseBytes, 1024 * 1024),
    tls: tlsCert && tlsKey ? { cert: path.resolve(tlsCert), key: path.resolve(tlsKey) } : undefined,
    httpRedirectPort,
    shutdownTimeoutMs: read("SHUTDOWN_TIMEOUT", parseDuration, 10_000),
    adminUsers: read("ADMIN_USERS", parseList, []),
    analytics: {
      retentionDays: read("ANALYTICS_RETENTION_DAYS", parsePositiveInt, 400),
      flushIntervalMs: read("ANALYTICS_FLUSH_INTERVAL", parseDuration, 60_000),
    },
    hub: {
      maxMessageBytes: read("MAX_MESSAGE_BYTES", parseBytes, 64 * 1024),
      slowClientBytes: read("SLOW_CLIENT_BYTES", parseBytes, 4 * 1024 * 1024),
      heartbeatIntervalMs: read("HEARTBEAT_INTERVAL", parseDuration, 25_000),
      handshakeTimeoutMs: read("HANDSHAKE_TIMEOUT", parseDuration, 10_000),
      messageRate: read("MESSAGE_RATE_LIMIT", parsePositiveNumber, 20),
      messageBurst: read("MESSAGE_BURST_LIMIT", parsePositiveInt, 50),
      upgradesPerMinute: read("UPGRADE_RATE_LIMIT", parsePositiveInt, 60),
      maxClientsPerRoom: read("MAX_CLIENTS_PER_ROOM", parsePositiveInt, 50),
      roomGraceMs: read("ROOM_GRACE_PERIOD", parseDuration, 30_000),
      roomKickBanMs: read("ROOM_KICK_BAN", parseDuration, 10 * 60_000),
      roomPasswordMaxFailures: read("ROOM_PASSWORD_MAX_FAILURES", parsePositiveInt, 5),
      roomExpiryMs: read("ROOM_EXPIRY_DAYS", parsePositiveNumber, 7) * 86_400_000,
      cleanupIntervalMs: read("CLEANUP_INTERVAL", parseDuration, 3_600_000),
      reconnectAfterMs: read("RECONNECT_AFTER", parseDuration, 2000),
      statsToken: read("STATS_TOKEN", (v) => v),
    },
    messages: {
      ttlMs: Math.round(read("MESSAGE_TTL_DAYS", parsePositiveNumber, 30) * 86_400_000),
      allowUnverified: read("ALLOW_UNVERIFIED", parseBool, false),
      allowUnsigned: read("ALLOW_UNSIGNED", parseBool, false),
    },
  };
  return Object.freeze(config);
}

/** Merges the environment with `warren server` flags (flags win). */
export function mergeSettings(env: Record<string, string | undefined>, flags: RawSettings = {}): RawSettings {
  const raw: RawSettings = {};
  for (const s of SETTINGS) raw[s.env] = flags[s.env] ?? env[s.env];
  return raw;
}
