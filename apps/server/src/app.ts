import { API_PREFIX } from "@warren/protocol";
import Fastify, { type FastifyInstance } from "fastify";
import type { Config } from "./config.js";
import { AppError } from "./errors.js";
import { loggerOptions } from "./observability/logger.js";
import type { Metrics } from "./observability/metrics.js";
import { authenticate, decorateRequests, freshAuth } from "./plugins/authenticate.js";
import { registerErrorHandling } from "./plugins/errors.js";
import { registerJsonInput } from "./plugins/json-input.js";
import { registerOpenApi } from "./plugins/openapi.js";
import { registerSecurity } from "./plugins/security.js";
import { registerValidation } from "./plugins/validation.js";
import { registerWeb } from "./plugins/web.js";
import { analyticsRoutes } from "./routes/analytics/index.js";
import { auditRoutes } from "./routes/audit/index.js";
import { challengeRoutes } from "./routes/auth/challenge.js";
import { authRoutes } from "./routes/auth/index.js";
import { keyRoutes } from "./routes/auth/keys.js";
import { sessionRoutes } from "./routes/auth/sessions.js";
import { totpRoutes } from "./routes/auth/totp.js";
import { chatRoutes } from "./routes/chat/index.js";
import { deviceRoutes } from "./routes/devices/index.js";
import { healthRoutes } from "./routes/health/index.js";
import { meRoutes } from "./routes/me/index.js";
import { directMessageRoutes } from "./routes/messages/direct.js";
import { networkRoutes } from "./routes/networks/index.js";
import { networkMemberRoutes } from "./routes/networks/members.js";
import { reservationRoutes } from "./routes/networks/reservations.js";
import { observabilityRoutes, type StatsDocument } from "./routes/observability/index.js";
import { peerRoutes } from "./routes/peers/index.js";
import { peerPathRoutes } from "./routes/peers/paths.js";
import { tenantRoutes } from "./routes/tenants/index.js";
import { blockRoutes } from "./routes/users/blocks.js";
import { usernameCheckRoutes } from "./routes/users/check.js";
import { userRoutes } from "./routes/users/index.js";
import type { Services } from "./services/index.js";

export interface AppOptions {
  config: Readonly<Config>;
  services: Services;
  /** key and certificate (PEM) when serving HTTPS */
  https?: { key: Buffer; cert: Buffer } | undefined;
  metrics: Metrics;
  /** the /stats document, read when asked */
  stats: () => Promise<StatsDocument>;
}

export interface App {
  fastify: FastifyInstance;
  /** From now on new requests get 503 while in-flight ones finish. */
  beginShutdown(): void;
}

/** Builds the HTTP application: plugins, then routes. Listening is the caller's job. */
export async function buildApp({ config, services, https, metrics, stats }: AppOptions): Promise<App> {
  // Node checks headersTimeout/requestTimeout only this often (default 30 s), so a client
  // stalling in its headers or body (or its upgrade request) would outlive the timeout
  // by up to 30 s: check at a quarter of the shortest.
  const { headersMs, requestMs, idleMs } = config.httpTimeouts;
  const shortest = Math.min(config.hub.handshakeTimeoutMs, headersMs, requestMs);
  const connectionsCheckingInterval = Math.min(30_000, Math.max(250, shortest / 4));
  const fastify = Fastify({
    logger: loggerOptions(config),
    bodyLimit: config.bodyLimit,
    // Fastify takes a hop count too (documented), though its types leave numbers out.
    trustProxy: config.trustProxy as boolean | string[],
    // We answer 503 ourselves while closing, in our error shape.
    return503OnClosing: false,
    forceCloseConnections: "idle",
    // Slow clients: the whole request (headers and body) must arrive within requestMs,
    // and a socket silent for idleMs closes; Node answers 408 to a late request.
    requestTimeout: requestMs,
    connectionTimeout: idleMs,
    keepAliveTimeout: 5000,
    http: { connectionsCheckingInterval },
    ...(https ? { https: { ...https, connectionsCheckingInterval } } : {}),
  }) as unknown as FastifyInstance;

  // Headers must be complete within headersMs (Node wants it at most requestTimeout).
  fastify.server.headersTimeout = Math.min(headersMs, requestMs);

  let closing = false;
  fastify.addHook("onRequest", async (_request, reply) => {
    if (closing) {
      reply.header("connection", "close");
      throw new AppError("service_unavailable", "The server is shutting down");
    }
  });

  // JSON is the only body we take: anything else answers 415.
  fastify.removeContentTypeParser("text/plain");
  registerValidation(fastify);
  registerJsonInput(fastify, config.maxJsonDepth);
  registerErrorHandling(fastify);
  await registerSecurity(fastify, { allowedOrigins: config.allowedOrigins, tls: Boolean(https) });
  await registerOpenApi(fastify);

  decorateRequests(fastify);
  const deps = { services, requireFresh: freshAuth(services.sessions) };
  fastify.addHook("onResponse", async (request, reply) => {
    // The route pattern, not the URL: ids in paths must not explode the label set.
    const route = request.routeOptions.url ?? "unmatched";
    metrics.httpRequests.labels(request.method, route, String(reply.statusCode)).inc();
    metrics.httpDuration.labels(request.method, route).observe(reply.elapsedTime / 1000);
  });
  await fastify.register(healthRoutes, { services });
  await fastify.register(observabilityRoutes, { config, metrics, stats });
  await fastify.register(
    async (v1) => {
      // Public: no token needed.
      await v1.register(authRoutes, deps);
      await v1.register(challengeRoutes, deps);
      await v1.register(usernameCheckRoutes, deps);
      // The authenticated scope: every route here needs a bearer token (request.user).
      await v1.register(async (signedIn) => {
        authenticate(signedIn, services.sessions);
        await signedIn.register(sessionRoutes, deps);
        await signedIn.register(totpRoutes, deps);
        await signedIn.register(keyRoutes, deps);
        await signedIn.register(userRoutes, deps);
        await signedIn.register(networkRoutes, deps);
        await signedIn.register(networkMemberRoutes, deps);
        await signedIn.register(reservationRoutes, deps);
        await signedIn.register(deviceRoutes, deps);
        await signedIn.register(peerRoutes, deps);
        await signedIn.register(peerPathRoutes, deps);
        await signedIn.register(tenantRoutes, deps);
        await signedIn.register(chatRoutes, deps);
        await signedIn.register(auditRoutes, deps);
        await signedIn.register(analyticsRoutes, deps);
        await signedIn.register(meRoutes, deps);
        await signedIn.register(directMessageRoutes, deps);
        await signedIn.register(blockRoutes, deps);
      });
    },
    { prefix: API_PREFIX },
  );
  await registerWeb(fastify);

  return {
    fastify,
    beginShutdown() {
      closing = true;
    },
  };
}
