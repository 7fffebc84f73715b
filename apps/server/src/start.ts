import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createSecureContext, type SecureContextOptions } from "node:tls";
import { Redis } from "ioredis";
import { type App, buildApp } from "./app.js";
import { type Config, ConfigError } from "./config.js";
import { createServices, type Services } from "./services/index.js";
import { loadSigningKey } from "./signing-key.js";
import { createDatabase } from "./storage/create-database.js";
import { migrate } from "./storage/migrations/index.js";

export interface RunningServer {
  url: string;
  port: number;
  app: App;
  services: Services;
  /** Graceful stop: refuse new work, let in-flight requests finish (bounded), close stores. */
  close(): Promise<void>;
}

function displayHost(host: string): string {
  if (host === "0.0.0.0" || host === "::" || host === "") return "localhost";
  return host.includes(":") ? `[${host}]` : host;
}

/** Opens storage, migrates, builds the app and listens, as configured. */
export async function startServer(config: Readonly<Config>): Promise<RunningServer> {
  // Before any side effect: a bad TLS file is a bad setting.
  const https = config.tls ? loadTls(config.tls) : undefined;
  const database = createDatabase({
    databaseUrl: config.databaseUrl,
    dbPath: config.dbPath,
    poolSize: config.databasePoolSize,
  });
  let redis: Redis | undefined;
  try {
    await migrate(database.db);
    const signing = loadSigningKey({ jwtSecret: config.jwtSecret, dataDir: config.dataDir });
    if (config.redisUrl) {
      // No offline queue: while Redis is away, calls fail fast and the limiter's
      // in-process insurance takes over.
      redis = new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
      redis.on("error", () => {});
      await waitForRedis(redis, 5000);
    }
    const services = createServices({ database, config, signingSecret: signing.secret, redis });
    const app = await buildApp({ config, services, https });
    const log = app.fastify.log;
    if (signing.created) {
      log.warn(`generated a token signing key at ${signing.created}; set JWT_SECRET to choose your own`);
    }
    await app.fastify.listen({ host: config.host, port: config.port });
    const port = (app.fastify.server.address() as AddressInfo).port;
    const scheme = https ? "https" : "http";
    const url = `${scheme}://${displayHost(config.host)}:${port}`;

    const redirect =
      https && config.httpRedirectPort !== undefined ? await startRedirect(config, port) : undefined;

    let closed: Promise<void> | undefined;
    const close = () => {
      closed ??= (async () => {
        app.beginShutdown();
        redirect?.close();
        const server = app.fastify.server;
        const timer = setTimeout(() => server.closeAllConnections(), config.shutdownTimeoutMs);
        try {
          await app.fastify.close();
        } finally {
          clearTimeout(timer);
          await database.close();
          await redis?.quit().catch(() => redis?.disconnect());
        }
      })();
      return closed;
    };
    return { url, port, app, services, close };
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

/** Plain HTTP on HTTP_REDIRECT_PORT answering 308 to the same path over HTTPS (seed 001). */
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
