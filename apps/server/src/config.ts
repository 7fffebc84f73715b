import { randomBytes } from "node:crypto";
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
import { LOG_LEVELS, NODE_ENVS, SETTINGS } from "./config-settings.js";

export { SETTINGS };

const parseKeyPrefix = (v: string): string => {
  if (!/^[\x21-\x7e]{1,64}$/.test(v)) throw new Error("1 to 64 printable characters without spaces");
  return v;
};
const parseInstanceId = (v: string): string => {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(v)) throw new Error("1 to 64 letters, digits, '.', '_' or '-'");
  return v;
};
const parseTtl = (v: string): number => {
  const ms = parseDuration(v);
  if (ms < 3000) throw new Error("a duration of at least 3s");
  return ms;
};

export type SettingName = (typeof SETTINGS)[number]["env"];
export type RawSettings = Partial<Record<SettingName, string | undefined>>;

export interface Config {
  nodeEnv: (typeof NODE_ENVS)[number];
  host: string;
  port: number;
  /** LISTEN_BACKLOG */
  listenBacklog: number;
  dataDir: string;
  dbPath: string;
  databaseUrl: string | undefined;
  databasePoolSize: number;
  /** bounds on every query (PostgreSQL statement and lock timeouts, pool wait, SQLite busy wait) */
  databaseTimeouts: DatabaseTimeouts;
  redisUrl: string | undefined;
  /** Redis key and channel prefix; instance name and liveness */
  redis: { keyPrefix: string; instanceId: string; instanceTtlMs: number };
  jwtSecret: string | undefined;
  /** DATA_ENCRYPTION_KEY (32 bytes); unset means generated under dataDir (never in production) */
  dataEncryptionKey: Buffer | undefined;
  /** DATA_ENCRYPTION_OLD_KEYS: retired keys, read only */
  dataEncryptionOldKeys: Buffer[];
  accessTokenTtlMs: number;
  refreshTokenTtlMs: number;
  challengeTtlMs: number;
  /** how recent a proof of identity must be to change credentials */
  freshAuthMs: number;
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
  maxJsonDepth: number;
  /** Node's HTTP server timeouts: headers, whole request, idle socket */
  httpTimeouts: { headersMs: number; requestMs: number; idleMs: number };
  tls: { cert: string; key: string } | undefined;
  httpRedirectPort: number | undefined;
  shutdownTimeoutMs: number;
  adminUsers: string[];
  /** analytics: what is kept how long, and how often counts reach the database */
  analytics: { retentionDays: number; flushIntervalMs: number };
  hub: HubConfig;
  messages: MessagesConfig;
  nat: NatConfig;
}

/** Endpoint discovery (STUN) and the packet relay. */
export interface NatConfig {
  /** undefined: no STUN */
  stunPort: number | undefined;
  stunAltPort: number | undefined;
  stunRate: number;
  /** bytes per second per device through the relay; 0: relay off */
  relayBytesPerSecond: number;
  relayUrl: string | undefined;
}

export interface DatabaseTimeouts {
  statementMs: number;
  lockMs: number;
  acquireMs: number;
}

/** Direct messages. */
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
  maxSocketsPerUser: number;
  maxPendingUpgradesPerAddress: number;
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
  if (name === "JWT_SECRET" || name === "DATA_ENCRYPTION_KEY" || name === "DATA_ENCRYPTION_OLD_KEYS") {
    return "[redacted]";
  }
  if ((name === "DATABASE_URL" || name === "REDIS_URL") && value.includes("@")) {
    return `[redacted]${value.slice(value.lastIndexOf("@"))}`;
  }
  return value;
}

/** A 32-byte key written as 64 hex digits or as base64 (either alphabet). */
export function parseDataKey(value: string): Buffer {
  const v = value.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(v) ? Buffer.from(v, "hex") : Buffer.from(v, "base64");
  if (bytes.length !== 32) throw new Error("32 bytes: 64 hex digits or base64 (openssl rand -hex 32)");
  return bytes;
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
  const dataEncryptionKey = read("DATA_ENCRYPTION_KEY", parseDataKey);
  if (nodeEnv === "production" && !dataEncryptionKey) {
    throw new ConfigError(
      "DATA_ENCRYPTION_KEY",
      "set when NODE_ENV=production (32 bytes: 64 hex digits or base64, e.g. openssl rand -hex 32)",
      "",
    );
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
    listenBacklog: read("LISTEN_BACKLOG", parsePositiveInt, 4096),
    dataDir,
    dbPath: path.resolve(read("DB_PATH", (v) => v, path.join(dataDir, "warren.db"))),
    databaseUrl: read("DATABASE_URL", parseUrl(["postgres:", "postgresql:"])),
    databasePoolSize: read("DATABASE_POOL_SIZE", parsePositiveInt, 10),
    databaseTimeouts: {
      statementMs: read("DB_STATEMENT_TIMEOUT", parseDuration, 5000),
      lockMs: read("DB_LOCK_TIMEOUT", parseDuration, 2000),
      acquireMs: read("DB_ACQUIRE_TIMEOUT", parseDuration, 3000),
    },
    redisUrl: read("REDIS_URL", parseUrl(["redis:", "rediss:"])),
    redis: {
      keyPrefix: read("REDIS_KEY_PREFIX", parseKeyPrefix, "warren:"),
      instanceId: read("INSTANCE_ID", parseInstanceId, randomBytes(6).toString("hex")),
      instanceTtlMs: read("INSTANCE_TTL", parseTtl, 30_000),
    },
    jwtSecret,
    dataEncryptionKey,
    dataEncryptionOldKeys: read(
      "DATA_ENCRYPTION_OLD_KEYS",
      (v) =>
        v
          .split(",")
          .map((k) => k.trim())
          .filter(Boolean)
          .map(parseDataKey),
      [],
    ),
    accessTokenTtlMs: read("ACCESS_TOKEN_TTL", parseDuration, 15 * 60_000),
    refreshTokenTtlMs: read("REFRESH_TOKEN_TTL", parseDuration, 30 * 86_400_000),
    challengeTtlMs: read("CHALLENGE_TTL", parseDuration, 60_000),
    freshAuthMs: read("FRESH_AUTH_WINDOW", parseDuration, 10 * 60_000),
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
    maxJsonDepth: read("MAX_JSON_DEPTH", parsePositiveInt, 32),
    httpTimeouts: {
      headersMs: read("HTTP_HEADERS_TIMEOUT", parseDuration, 10_000),
      requestMs: read("HTTP_REQUEST_TIMEOUT", parseDuration, 30_000),
      idleMs: read("HTTP_IDLE_TIMEOUT", parseDuration, 60_000),
    },
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
      maxSocketsPerUser: read("MAX_SOCKETS_PER_USER", parsePositiveInt, 20),
      maxPendingUpgradesPerAddress: read("MAX_PENDING_UPGRADES_PER_ADDRESS", parsePositiveInt, 20),
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
    nat: natConfig(raw, read),
  };
  return Object.freeze(config);
}

/** STUN_PORT set to "" turns STUN off; unset means the default 3478. */
function natConfig(
  raw: RawSettings,
  read: <T>(name: SettingName, parse: (v: string) => T, fallback: T) => T,
): NatConfig {
  const stunOff = raw.STUN_PORT !== undefined && raw.STUN_PORT.trim() === "";
  const stunPort = stunOff ? undefined : read("STUN_PORT", parsePort, 3478);
  const alt = raw.STUN_ALT_PORT?.trim();
  const stunAltPort =
    stunPort === undefined || alt === "off"
      ? undefined
      : read("STUN_ALT_PORT", parsePort, stunPort < 65535 ? stunPort + 1 : stunPort - 1);
  return {
    stunPort,
    stunAltPort,
    stunRate: read("STUN_RATE_LIMIT", parsePositiveNumber, 20),
    relayBytesPerSecond: read(
      "RELAY_RATE_LIMIT",
      (v) => (v.trim() === "0" ? 0 : parseBytes(v)),
      16 * 1024 * 1024,
    ),
    relayUrl: read("RELAY_URL", (v) => parseUrl(["http:", "https:"])(v).replace(/\/+$/, ""), "") || undefined,
  };
}

/** Merges the environment with `warren server` flags (flags win). */
export function mergeSettings(env: Record<string, string | undefined>, flags: RawSettings = {}): RawSettings {
  const raw: RawSettings = {};
  for (const s of SETTINGS) raw[s.env] = flags[s.env] ?? env[s.env];
  return raw;
}
