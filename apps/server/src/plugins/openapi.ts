import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import { PROTOCOL_VERSION } from "@warren/protocol";
import type { FastifyInstance } from "fastify";

/** OpenAPI 3.1 built from the routes' TypeBox schemas; served at /v1/openapi.json, browsed at /docs. */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "warren API",
        version: `v${PROTOCOL_VERSION}`,
        description:
          'REST API of warren. Every non-2xx answer is {"error":{"code","message"}}; codes are listed in docs/protocol.md.',
      },
      components: {
        securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
      },
      tags: [
        { name: "health", description: "Liveness and readiness" },
        { name: "auth", description: "Accounts, sessions, second factor and keys" },
        { name: "users", description: "Public profiles and keys" },
        {
          name: "direct messages",
          description: "End-to-end encrypted direct messages: sealed copies, history",
        },
        { name: "analytics", description: "Sessions, active users and message counts, for server admins" },
      ],
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs", uiConfig: { docExpansion: "list" } });
  app.get("/v1/openapi.json", { schema: { hide: true } }, async () => app.swagger());
}
