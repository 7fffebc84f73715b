import { AuthResult, LoginBody, RefreshBody, RegisterBody, Tokens } from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { toUser } from "../../services/accounts.js";
import { errors, type RouteDeps, typed } from "../shared.js";

/** Public: register, password sign-in, refresh. */
export async function authRoutes(app: FastifyInstance, { services }: RouteDeps) {
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
      const { user, admin } = await services.accounts.register(request.body, request.context);
      // The operator learns who holds the server at once: the first account is its admin.
      if (admin) request.log.info({ user: user.id }, `first account ${user.username} is a server admin`);
      const tokens = await services.sessions.start(user.id, null, request.context);
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
      const { user, tokens } = await services.signIn.password(request.body, request.context);
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
      tokens: await services.sessions.refresh(request.body.refresh_token, request.context),
    }),
  );
}
