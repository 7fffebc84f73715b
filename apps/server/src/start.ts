import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createSecureContext, type SecureContextOptions } from "node:tls";
import { Redis } from "ioredis";
import { type App, buildApp } from "./app.js";
import { createMemoryBus } from "./bus/memory-bus.js";
import { createRedisBus } from "./bus/redis-bus.js";
import { type Clock, systemClock } from "./clock.js";
import { type Config, ConfigError } from "./config.js";
import { loadDataKeys } from "./data-key.js";
import { createHub, type Hub } from "./hub/hub.js";
import { type Maintenance, startMaintenance } from "./maintenance.js";
import { createMetrics } from "./observability/metrics.js";
import { createSealer } from "./sealer.js";
import { createServices, type Services } from "./services/index.js";
import { loadSigningKey } from "./signing-key.js";
import { createMemoryState } from "./state/index.js";
import { createRedisState } from "./state/redis-state.js";
import { createDatabase, type Database } from "./storage/create-database.js";
import { migrate } from "./storage/migrations/index.js";
import { createRepositories, type Repositories } from "./storage/repositories/index.js";
import { startStun } from "./stun/start-stun.js";
import type { StunServer } from "./stun/stun-server.js";

export interface RunningServer {
  url: string;
  port: number;
  app: App;
  services: Services;
  /**
   * The open database and its repositories: an operations and test hook (checks of
   * stored rows no API shows). The server itself reaches them only through services.
   */
  database: Database;
  repositories: Repositories;
  hub: Hub;
  /** the periodic chores; `run()` does them now (operations and tests) */
  maintenance: Maintenance;
  /** the STUN endpoint, when STUN_PORT is set and a port could be bound */
  stun: StunServer | undefined;
  /** Graceful stop: refuse new work, let in-flight requests finish (bounded), close stores. */
  close(): Promise<void>;
}

function displayHost(host: string): string {
  if (host === "0.0.0.0" || host === "::" || host === "") return "localhost";
  return host.includes(":") ? `[${host}]` : host;
}

export interface StartOptions {
  /** the time services go by: a test hook (the system clock by default), not a setting */
  clock?: Clock;
}

/** Opens storage, migrates, builds the app and listens, as configured. */
export async function startServer(
  config: Readonly<Config>,
  { clock = systemClock }: StartOptions = {},
): Promise<RunningServer> {
  // Before any side effect: a bad TLS file is a bad setting.
  const https = config.tls ? loadTls(config.tls) : undefined;
  // Migrations may rightly run longer than a request may wait: they get a connection
  // without the query bounds, closed before the serving pool opens.
  if (config.dbPath !== ":memory:" || config.databaseUrl) {
    const migrating = createDatabase({ databaseUrl: config.databaseUrl, dbPath: config.dbPath, poolSize: 1 });
    try {
      await migrate(migrating.db);
    } finally {
      await migrating.close();
    }
  }
  const database = createDatabase({
    databaseUrl: config.databaseUrl,
    dbPath: config.dbPath,
    poolSize: config.databasePoolSize,
    timeouts: config.databaseTimeouts,
  });
  let redis: Redis | undefined;
  try {
    await migrate(database.db);
    const signing = loadSigningKey({ jwtSecret: config.jwtSecret, dataDir: config.dataDir });
    const dataKeys = loadDataKeys({
      key: config.dataEncryptionKey,
      oldKeys: config.dataEncryptionOldKeys,
      dataDir: config.dataDir,
    });
    if (config.redisUrl) {
      // No offline queue: while Redis is away, calls fail fast (the hub answers
      // service_unavailable, limiters fall back to this process). Reconnect at least every
      // second, so kept bus events find the other instances resubscribed (redis-bus.ts).
      redis = new Redis(config.redisUrl, {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        enableAutoPipelining: true,
        retryStrategy: (times) => Math.min(times * 100, 1000),
      });
      redis.on("error", () => {});
      await waitForRedis(redis, 5000);
    }
    // The bus logs through the app's logger, which exists only further down.
    let appLog: App["fastify"]["log"] | undefined;
    const laterLog = {
      info: (obj: object, msg: string) => appLog?.info(obj, msg),
      warn: (obj: object, msg: string) => appLog?.warn(obj, msg),
    };
    // One process: the in-memory bus and state; with REDIS_URL, Redis for both.
    const { keyPrefix, instanceId, instanceTtlMs } = config.redis;
    const limits = { messageRate: config.hub.messageRate, messageBurst: config.hub.messageBurst };
    const bus = redis
      ? createRedisBus({ redis, prefix: keyPrefix, instanceId, log: laterLog })
      : createMemoryBus();
    const state = redis
      ? createRedisState({ redis, keyPrefix, instanceId, instanceTtlMs, ...limits })
      : createMemoryState({ ...limits, instanceId });
    const repositories = createRepositories(database.db);
    const services = createServices({
      database,
      repos: repositories,
      config,
      signingSecret: signing.secret,
      sealer: createSealer(dataKeys),
      bus,
      state,
      redis,
      clock,
    });
    const metrics = createMetrics();
    const startedAt = Date.now();
    let hub: Hub | undefined;
    const stats = async () => {
      const s = hub?.stats ?? { connections_total: 0, connections_active: 0, messages_processed: 0 };
      const active = hub?.localRoomCount() ?? 0;
      return {
        connections: { total: s.connections_total, active: s.connections_active },
        messages_processed: s.messages_processed,
        rooms: { active, stored: await services.rooms.storedCount() },
        cleanup: { runs: services.rooms.stats.cleanupRuns, rooms_removed: services.rooms.stats.roomsRemoved },
        users_online: await services.presence.onlineCount(),
        uptime_seconds: Math.floor((Date.now() - startedAt) / 1000),
      };
    };
    const app = await buildApp({ config, services, https, metrics, stats });
    hub = createHub({ config, services, bus, state, redis, metrics, log: app.fastify.log });
    const counted = hub;
    metrics.countRoomsWith(() => counted.localRoomCount());
    metrics.watchBusWith(() => bus.healthy());
    hub.attach(app.fastify.server as unknown as import("node:http").Server);
    const log = app.fastify.log;
    const maintenance = startMaintenance({ services, intervalMs: config.hub.cleanupIntervalMs, clock, log });
    appLog = log;
    if (signing.created) {
      log.warn(`generated a token signing key at ${signing.created}; set JWT_SECRET to choose your own`);
    }
    if (dataKeys.created) {
      log.warn(
        `generated a data encryption key at ${dataKeys.created}; set DATA_ENCRYPTION_KEY to choose your own`,
      );
    }
    // Heartbeat, and sessions a crashed server left open are closed.
    await services.analytics.start(log);
    await app.fastify.listen({ host: config.host, port: config.port, backlog: config.listenBacklog });
    const port = (app.fastify.server.address() as AddressInfo).port;
    const scheme = https ? "https" : "http";
    const url = `${scheme}://${displayHost(config.host)}:${port}`;

    const stun = await startStun(config, log);

    const redirect =
      https && config.httpRedirectPort !== undefined ? await startRedirect(config, port) : undefined;

    let closed: Promise<void> | undefined;
    const close = () => {
      closed ??= (async () => {
        app.beginShutdown();
        redirect?.close();
        stun?.close();
        maintenance.stop();
        // One SHUTDOWN_TIMEOUT for sockets and in-flight requests together, not one each.
        const deadline = Date.now() + config.shutdownTimeoutMs;
        await hub?.shutdown(config.shutdownTimeoutMs);
        // The sockets' session ends and the last frame counts, before the database closes
        // (within what is left of SHUTDOWN_TIMEOUT, at least 0.5 s: a stuck database must
        // not hold the exit).
        let stopTimer: NodeJS.Timeout | undefined;
        await Promise.race([
          services.analytics.stop(),
          new Promise((r) => {
            stopTimer = setTimeout(r, Math.max(500, deadline - Date.now()));
          }),
        ]);
        clearTimeout(stopTimer);
        const server = app.fastify.server;
        const timer = setTimeout(() => server.closeAllConnections(), Math.max(0, deadline - Date.now()));
        try {
          await app.fastify.close();
        } finally {
          clearTimeout(timer);
          await database.close();
          await bus.close();
          await redis?.quit().catch(() => redis?.disconnect());
        }
      })();
      return closed;
    };
    return { url, port, app, services, database, repositories, hub, maintenance, stun, close };
  } catch (err) {
    await database.close();
    redis?.disconnect();
    throw err;
  }
}

/**
 * Gives Redis a moment to connect so the first requests already share its counters.
 * If it does not come, start anyway: the limiter counts in-process until it does.
 */
async function waitForRedis(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === "ready") return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    redis.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Reads TLS_CERT and TLS_KEY; an unreadable file, bad PEM or mismatched pair is a ConfigError. */
function loadTls(tls: { cert: string; key: string }): { key: Buffer; cert: Buffer } {
  const read = (setting: "TLS_CERT" | "TLS_KEY", file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new ConfigError(setting, `a readable PEM file (${reason})`, file);
    }
  };
  const pem = { cert: read("TLS_CERT", tls.cert), key: read("TLS_KEY", tls.key) };
  const check = (
    setting: "TLS_CERT" | "TLS_KEY",
    expects: string,
    options: SecureContextOptions,
    file: string,
  ) => {
    try {
      createSecureContext(options);
    } catch (err) {
      throw new ConfigError(setting, `${expects} (${(err as Error).message})`, file);
    }
  };
  check("TLS_CERT", "a PEM certificate", { cert: pem.cert }, tls.cert);
  check("TLS_KEY", "a PEM private key", { key: pem.key }, tls.key);
  check("TLS_KEY", "the private key of the TLS_CERT certificate", pem, tls.key);
  return pem;
}

/** Plain HTTP on HTTP_REDIRECT_PORT answering 308 to the same path over HTTPS. */
async function startRedirect(config: Readonly<Config>, httpsPort: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const host = (req.headers.host ?? "localhost").replace(/:\d+$/, "");
    const port = httpsPort === 443 ? "" : `:${httpsPort}`;
    res.writeHead(308, { location: `https://${host}${port}${req.url ?? "/"}`, connection: "close" });
    res.end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.httpRedirectPort, config.host, () => resolve());
  });
  return server;
}
