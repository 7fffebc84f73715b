import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import { PROTOCOL_VERSION } from "@warren/protocol";
import type { FastifyInstance, FastifySchema } from "fastify";
import { operationIdFor, withPrefixItems } from "./openapi-document.js";

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
        license: { name: "MIT", identifier: "MIT" },
      },
      // Relative: the document describes the server that serves it, wherever that is.
      servers: [{ url: "/", description: "the server this document was fetched from" }],
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
    transform: ({ schema, url, route }) => {
      if (!schema || schema.hide) return { schema, url };
      const method = Array.isArray(route.method) ? route.method[0] : route.method;
      const s = schema as FastifySchema & { operationId?: string; security?: unknown };
      return {
        schema: {
          ...s,
          operationId: s.operationId ?? operationIdFor(String(method), url),
          security: s.security ?? [],
        } as FastifySchema,
        url,
      };
    },
    transformObject: (document) => {
      const generated = "openapiObject" in document ? document.openapiObject : document.swaggerObject;
      return withPrefixItems(generated) as typeof generated;
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs", uiConfig: { docExpansion: "list" } });
  app.get("/v1/openapi.json", { schema: { hide: true } }, async () => app.swagger());
}
