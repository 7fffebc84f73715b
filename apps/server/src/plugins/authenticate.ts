import type { FastifyInstance, FastifyRequest } from "fastify";
import { AppError } from "../errors.js";
import type { RequestContext } from "../services/context.js";
import type { Principal, Sessions } from "../services/sessions.js";

declare module "fastify" {
  interface FastifyRequest {
    /**
     * The signed-in principal. Set before any handler of the authenticated scope runs
     * (authenticate below); routes outside that scope are public and never read it.
     */
    user: Principal;
    /** What services may know about this request: the client address and User-Agent. */
    context: RequestContext;
  }
}

/** The OpenAPI security entry of every route in the authenticated scope. */
export const bearer = [{ bearer: [] }];

/** Reads "Authorization: Bearer <access token>". */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) throw new AppError("invalid_token", "Send the token as Authorization: Bearer <token>");
  return match[1];
}

/** Adds request.user (empty until authenticated) and request.context to every request. */
export function decorateRequests(app: FastifyInstance): void {
  app.decorateRequest("user", null as unknown as Principal);
  app.decorateRequest("context", {
    getter(this: FastifyRequest): RequestContext {
      return { ip: this.ip, userAgent: this.headers["user-agent"] };
    },
  });
}

/**
 * Makes `scope` (an encapsulated context) the authenticated scope: each of its routes
 * is documented with the bearer security entry, and each request verifies its bearer
 * token once, after validation and before any route preHandler, setting request.user.
 * No token answers unauthorized; a bad or ended one, invalid_token.
 */
export function authenticate(scope: FastifyInstance, sessions: Sessions): void {
  scope.addHook("onRoute", (route) => {
    route.schema = { ...route.schema, security: bearer } as typeof route.schema;
  });
  scope.addHook("preHandler", async (request) => {
    const token = bearerToken(request);
    if (!token) throw new AppError("unauthorized");
    request.user = await sessions.authenticate(token);
  });
}

/**
 * A route preHandler in the authenticated scope: a proof of identity within
 * FRESH_AUTH_WINDOW on the session, for routes that add, replace or remove credentials
 * (reauthentication_required otherwise).
 */
export function freshAuth(sessions: Sessions) {
  return async function requireFresh(request: FastifyRequest): Promise<void> {
    sessions.requireFresh(request.user);
  };
}
