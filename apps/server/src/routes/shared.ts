import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { ErrorResponse } from "@warren/protocol";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { RequestContext } from "../services/context.js";
import type { Services } from "../services/index.js";

export interface RouteDeps {
  services: Services;
  requireAuth: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  /** requireAuth plus a recent proof of identity: for credential changes */
  requireFresh: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
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

export function contextOf(request: FastifyRequest): RequestContext {
  return { ip: request.ip, userAgent: request.headers["user-agent"] };
}

export const bearer = [{ bearer: [] }];
