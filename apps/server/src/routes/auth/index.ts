import { AuthResult, LoginBody, Me, RefreshBody, RegisterBody, Tokens } from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { principalOf } from "../../plugins/authenticate.js";
import { toUser } from "../../services/accounts.js";
import { bearer, contextOf, errors, type RouteDeps, typed } from "../shared.js";

/** Register, password sign-in, refresh, logout, me. */
export async function authRoutes(app: FastifyInstance, { services, requireAuth }: RouteDeps) {
  const r = typed(app);

  r.post(
    "/auth/register",
    {
      schema: {
        tags: ["auth"],
        summary: "Create an account with a password, an Ed25519 public key, or both",
        body: RegisterBody,
        response: { 201: AuthResult, ...errors(400, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      const { user, admin } = await services.accounts.register(request.body, contextOf(request));
      // The operator learns who holds the server at once: the first account is its admin.
      if (admin) request.log.info({ user: user.id }, `first account ${user.username} is a server admin`);
      const tokens = await services.sessions.start(user.id, null, contextOf(request));
      return reply.code(201).send({ user, tokens });
    },
  );

  r.post(
    "/auth/login",
    {
      schema: {
        tags: ["auth"],
        summary: "Sign in with username or email, password and (when on) a TOTP or recovery code",
        body: LoginBody,
        response: { 200: AuthResult, ...errors(400, 401, 429) },
      },
    },
    async (request) => {
      const { user, tokens } = await services.signIn.password(request.body, contextOf(request));
      return { user: toUser(user), tokens };
    },
  );

  r.post(
    "/auth/refresh",
    {
      schema: {
        tags: ["auth"],
        summary: "Trade a refresh token for new tokens; the old refresh token stops working",
        body: RefreshBody,
        response: { 200: Type.Object({ tokens: Tokens }), ...errors(400, 401) },
      },
    },
    async (request) => ({
      tokens: await services.sessions.refresh(request.body.refresh_token, contextOf(request)),
    }),
  );

  r.post(
    "/auth/logout",
    {
      preHandler: requireAuth,
      schema: {
        tags: ["auth"],
        summary: "End this session: its refresh token and access tokens stop working",
        security: bearer,
        response: { 204: Type.Null(), ...errors(401) },
      },
    },
    async (request, reply) => {
      await services.sessions.logout(principalOf(request), contextOf(request));
      return reply.code(204).send(null);
    },
  );

  r.get(
    "/auth/me",
    {
      preHandler: requireAuth,
      schema: {
        tags: ["auth"],
        summary: "The signed-in account",
        security: bearer,
        response: { 200: Me, ...errors(401) },
      },
    },
    async (request) => {
      const p = principalOf(request);
      return services.accounts.me(p.userId, p.sessionId);
    },
  );
}
