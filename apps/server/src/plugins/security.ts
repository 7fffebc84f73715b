import cors from "@fastify/cors";
import helmet from "@fastify/helmet";
import type { FastifyInstance } from "fastify";

/**
 * Security headers (helmet) and CORS. Cross-origin browser calls are allowed only from
 * ALLOWED_ORIGINS; the dashboard is served from the same origin and needs none.
 */
export async function registerSecurity(
  app: FastifyInstance,
  options: { allowedOrigins: string[]; tls: boolean },
): Promise<void> {
  await app.register(helmet, {
    // The /docs page (Swagger UI) runs inline scripts and styles of its own.
    contentSecurityPolicy: false,
    hsts: options.tls ? { maxAge: 15_552_000 } : false,
  });
  const allowed = new Set(options.allowedOrigins);
  await app.register(cors, {
    origin: (origin, cb) => cb(null, origin !== undefined && (allowed.has("*") || allowed.has(origin))),
    methods: ["GET", "POST", "PUT", "PATCH", "DELETE"],
    allowedHeaders: ["authorization", "content-type"],
    maxAge: 600,
  });
}
