import { timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { type Static, Type } from "typebox";
import type { Config } from "../../config.js";
import { AppError } from "../../errors.js";
import type { Metrics } from "../../observability/metrics.js";
import { errors, typed } from "../shared.js";

export interface ObservabilityDeps {
  config: Readonly<Config>;
  metrics: Metrics;
  stats: () => Promise<StatsDocument>;
}

export type StatsDocument = Static<typeof Stats>;

const Stats = Type.Object(
  {
    connections: Type.Object({ total: Type.Integer(), active: Type.Integer() }),
    messages_processed: Type.Integer(),
    rooms: Type.Object({ active: Type.Integer(), stored: Type.Integer() }),
    cleanup: Type.Object({ runs: Type.Integer(), rooms_removed: Type.Integer() }),
    users_online: Type.Integer(),
    uptime_seconds: Type.Integer(),
  },
  { additionalProperties: true },
);

function presented(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  if (auth) return /^Bearer\s+(\S+)\s*$/i.exec(auth)?.[1];
  return (request.query as { token?: string } | undefined)?.token;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** GET /metrics (Prometheus text) and GET /stats (JSON counters, the shape earlier dashboards read). */
export async function observabilityRoutes(
  app: FastifyInstance,
  { config, metrics, stats }: ObservabilityDeps,
) {
  const r = typed(app);
  r.get(
    "/metrics",
    { schema: { tags: ["health"], summary: "Prometheus metrics" } },
    async (_request, reply) => {
      reply.header("content-type", metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );
  r.get(
    "/stats",
    {
      schema: {
        tags: ["health"],
        summary: "Connection, message and room counters (needs STATS_TOKEN when set)",
        querystring: Type.Object({ token: Type.Optional(Type.String()) }),
        response: { 200: Stats, ...errors(401) },
      },
    },
    async (request) => {
      const token = config.hub.statsToken;
      if (token) {
        const given = presented(request);
        if (!given)
          throw new AppError("unauthorized", "Send the stats token as Authorization: Bearer <token>");
        if (!same(given, token)) throw new AppError("invalid_token", "Wrong stats token");
      }
      return stats();
    },
  );
}
