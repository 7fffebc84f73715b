import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { ErrorResponse } from "@warren/protocol";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Services } from "../services/index.js";

export interface RouteDeps {
  services: Services;
  /**
   * A route preHandler: a recent proof of identity on the session, for credential
   * changes. Authentication itself is the authenticated scope's (plugins/authenticate.ts).
   */
  requireFresh: (request: FastifyRequest) => Promise<void>;
}

export function typed(app: FastifyInstance) {
  return app.withTypeProvider<TypeBoxTypeProvider>();
}

/** The error answers a route documents, each with the one error body shape. */
export function errors(...statuses: number[]): Record<number, typeof ErrorResponse> {
  const out: Record<number, typeof ErrorResponse> = {};
  for (const s of [...statuses, 500]) out[s] = ErrorResponse;
  return out;
}
