import { Availability, IdParams, KeyList, User, UsernameParams } from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { bearer, errors, type RouteDeps, typed } from "../shared.js";

/** Public profiles and public keys, and whether a username is free. */
export async function userRoutes(app: FastifyInstance, { services, requireAuth }: RouteDeps) {
  const r = typed(app);

  r.get(
    "/users/check/:username",
    {
      schema: {
        tags: ["users"],
        summary: "Whether a username is free (names compare without case)",
        params: UsernameParams,
        response: { 200: Availability, ...errors(400) },
      },
    },
    async (request) => ({
      username: request.params.username,
      available: await services.accounts.usernameAvailable(request.params.username),
    }),
  );

  r.get(
    "/users/:id",
    {
      preHandler: requireAuth,
      schema: {
        tags: ["users"],
        summary: "A user's public profile",
        security: bearer,
        params: IdParams,
        response: { 200: User, ...errors(400, 401, 404) },
      },
    },
    async (request) => services.accounts.profile(request.params.id),
  );

  r.get(
    "/users/:id/keys",
    {
      preHandler: requireAuth,
      schema: {
        tags: ["users"],
        summary: "A user's public keys",
        security: bearer,
        params: IdParams,
        response: { 200: KeyList, ...errors(400, 401, 404) },
      },
    },
    async (request) => ({ keys: await services.accounts.keys(request.params.id) }),
  );
}
