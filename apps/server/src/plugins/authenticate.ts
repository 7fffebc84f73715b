import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AppError } from "../errors.js";
import type { Principal, Sessions } from "../services/sessions.js";

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** Reads "Authorization: Bearer <access token>". */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) throw new AppError("invalid_token", "Send the token as Authorization: Bearer <token>");
  return match[1];
}

/** Adds request.principal and a preHandler that requires it. */
export function registerAuthenticate(app: FastifyInstance, sessions: Sessions) {
  app.decorateRequest("principal", null);
  return async function requireAuth(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const token = bearerToken(request);
    if (!token) throw new AppError("unauthorized");
    request.principal = await sessions.authenticate(token);
  };
}

type PreHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * requireAuth, and a proof of identity within FRESH_AUTH_WINDOW on the session: for
 * routes that add, replace or remove credentials (reauthentication_required otherwise).
 */
export function freshAuth(requireAuth: PreHandler, sessions: Sessions): PreHandler {
  return async function requireFresh(request, reply) {
    await requireAuth(request, reply);
    sessions.requireFresh(principalOf(request));
  };
}

/** The principal of an authenticated route (requireAuth ran first). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError("unauthorized");
  return request.principal;
}
