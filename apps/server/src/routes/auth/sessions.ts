import {
  ChangePasswordBody,
  IdParams,
  PasswordChanged,
  ReauthenticateBody,
  Reauthenticated,
  RevokedSessions,
  SessionList,
} from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { principalOf } from "../../plugins/authenticate.js";
import { bearer, contextOf, errors, type RouteDeps, typed } from "../shared.js";

/** The account's sessions, proving identity again, and changing the password. */
export async function sessionRoutes(app: FastifyInstance, { services, requireAuth }: RouteDeps) {
  const r = typed(app);
  const common = { tags: ["auth"], security: bearer };

  r.post(
    "/auth/reauthenticate",
    {
      preHandler: requireAuth,
      schema: {
        ...common,
        summary:
          "Prove it is you again (password and TOTP, or a signed challenge): credential changes need a recent proof",
        body: ReauthenticateBody,
        response: { 200: Reauthenticated, ...errors(400, 401, 429) },
      },
    },
    async (request) => services.signIn.reauthenticate(principalOf(request), request.body, contextOf(request)),
  );

  r.post(
    "/auth/password",
    {
      preHandler: requireAuth,
      schema: {
        ...common,
        summary:
          "Set a new password: with the current one (and TOTP), or from a fresh session when the account has none; ends other sessions unless told not to",
        body: ChangePasswordBody,
        response: { 200: PasswordChanged, ...errors(400, 401, 403, 429) },
      },
    },
    async (request) => services.signIn.changePassword(principalOf(request), request.body, contextOf(request)),
  );

  r.get(
    "/auth/sessions",
    {
      preHandler: requireAuth,
      schema: {
        ...common,
        summary: "My sessions that still work, newest first",
        response: { 200: SessionList, ...errors(401) },
      },
    },
    async (request) => ({ sessions: await services.sessions.list(principalOf(request)) }),
  );

  r.delete(
    "/auth/sessions",
    {
      preHandler: requireAuth,
      schema: {
        ...common,
        summary: "End every session of mine but this one",
        response: { 200: RevokedSessions, ...errors(401) },
      },
    },
    async (request) => {
      const p = principalOf(request);
      const count = await services.sessions.revokeOthers(
        p.userId,
        p.sessionId,
        "revoked",
        contextOf(request),
      );
      return { revoked_sessions: count };
    },
  );

  r.delete(
    "/auth/sessions/:id",
    {
      preHandler: requireAuth,
      schema: {
        ...common,
        summary: "End one of my sessions: its tokens and sockets stop working at once",
        params: IdParams,
        response: { 204: Type.Null(), ...errors(400, 401, 404) },
      },
    },
    async (request, reply) => {
      await services.sessions.revokeOne(principalOf(request), request.params.id, contextOf(request));
      return reply.code(204).send(null);
    },
  );
}
