import {
  ChangePasswordBody,
  IdParams,
  Me,
  PasswordChanged,
  ReauthenticateBody,
  Reauthenticated,
  RevokedSessions,
  SessionList,
} from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { errors, type RouteDeps, typed } from "../shared.js";

/** The signed-in account, its sessions, proving identity again, and changing the password. */
export async function sessionRoutes(app: FastifyInstance, { services }: RouteDeps) {
  const r = typed(app);
  const common = { tags: ["auth"] };

  r.post(
    "/auth/logout",
    {
      schema: {
        ...common,
        summary: "End this session: its refresh token and access tokens stop working",
        response: { 204: Type.Null(), ...errors(401) },
      },
    },
    async (request, reply) => {
      await services.sessions.logout(request.user, request.context);
      return reply.code(204).send(null);
    },
  );

  r.get(
    "/auth/me",
    {
      schema: {
        ...common,
        summary: "The signed-in account",
        response: { 200: Me, ...errors(401) },
      },
    },
    async (request) => {
      const { userId, sessionId } = request.user;
      return services.accounts.me(userId, sessionId);
    },
  );

  r.post(
    "/auth/reauthenticate",
    {
      schema: {
        ...common,
        summary:
          "Prove it is you again (password and TOTP, or a signed challenge): credential changes need a recent proof",
        body: ReauthenticateBody,
        response: { 200: Reauthenticated, ...errors(400, 401, 429) },
      },
    },
    async (request) => services.signIn.reauthenticate(request.user, request.body, request.context),
  );

  r.post(
    "/auth/password",
    {
      schema: {
        ...common,
        summary:
          "Set a new password: with the current one (and TOTP), or from a fresh session when the account has none; ends other sessions unless told not to",
        body: ChangePasswordBody,
        response: { 200: PasswordChanged, ...errors(400, 401, 403, 429) },
      },
    },
    async (request) => services.signIn.changePassword(request.user, request.body, request.context),
  );

  r.get(
    "/auth/sessions",
    {
      schema: {
        ...common,
        summary: "My sessions that still work, newest first",
        response: { 200: SessionList, ...errors(401) },
      },
    },
    async (request) => ({ sessions: await services.sessions.list(request.user) }),
  );

  r.delete(
    "/auth/sessions",
    {
      schema: {
        ...common,
        summary: "End every session of mine but this one",
        response: { 200: RevokedSessions, ...errors(401) },
      },
    },
    async (request) => {
      const { userId, sessionId } = request.user;
      const count = await services.sessions.revokeOthers(userId, sessionId, "revoked", request.context);
      return { revoked_sessions: count };
    },
  );

  r.delete(
    "/auth/sessions/:id",
    {
      schema: {
        ...common,
        summary: "End one of my sessions: its tokens and sockets stop working at once",
        params: IdParams,
        response: { 204: Type.Null(), ...errors(400, 401, 404) },
      },
    },
    async (request, reply) => {
      await services.sessions.revokeOne(request.user, request.params.id, request.context);
      return reply.code(204).send(null);
    },
  );
}
