import { IdParams, KeyList, User } from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { errors, type RouteDeps, typed } from "../shared.js";

/** Public profiles and public keys (for signed-in callers). */
export async function userRoutes(app: FastifyInstance, { services }: RouteDeps) {
  const r = typed(app);

  r.get(
    "/users/:id",
    {
      schema: {
        tags: ["users"],
        summary: "A user's public profile",
        params: IdParams,
        response: { 200: User, ...errors(400, 401, 404) },
      },
    },
    async (request) => services.accounts.profile(request.params.id),
  );

  r.get(
    "/users/:id/keys",
    {
      schema: {
        tags: ["users"],
        summary: "A user's public keys",
        params: IdParams,
        response: { 200: KeyList, ...errors(400, 401, 404) },
      },
    },
    async (request) => ({ keys: await services.accounts.keys(request.params.id) }),
  );
}
