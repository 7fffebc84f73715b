import { Health, Ready } from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { errors, type RouteDeps, typed } from "../shared.js";

export async function healthRoutes(app: FastifyInstance, { services }: Pick<RouteDeps, "services">) {
  const r = typed(app);
  // Liveness: the process answers. No I/O, so a slow database never gets it restarted.
  r.get(
    "/health",
    { schema: { tags: ["health"], summary: "Liveness: the process answers", response: { 200: Health } } },
    async () => ({
      status: "ok" as const,
    }),
  );
  // Readiness: 200 only while the database answers (and Redis, when configured).
  r.get(
    "/ready",
    {
      schema: {
        tags: ["health"],
        summary: "Readiness: the database (and Redis, when configured) answers; 503 while not",
        response: { 200: Ready, ...errors(503) },
      },
    },
    async () => ({ status: "ready" as const, ...(await services.readiness.check()) }),
  );
}
