import type { FastifyInstance } from "fastify";
import { AppError } from "../errors.js";
import { JSON_REFUSAL_MESSAGES, refuseJson } from "../json-guard.js";

/**
 * Every body, querystring and path parameter is checked before validation: nesting at
 * most MAX_JSON_DEPTH deep (json_too_deep) and no NUL anywhere (invalid_text). One rule
 * at the edge, so no route and no storage backend meets such input.
 */
export function registerJsonInput(app: FastifyInstance, maxDepth: number): void {
  app.addHook("preValidation", async (request) => {
    for (const part of [request.body, request.query, request.params]) {
      const refused = refuseJson(part, maxDepth);
      if (refused) throw new AppError(refused, JSON_REFUSAL_MESSAGES[refused](maxDepth));
    }
  });
}
