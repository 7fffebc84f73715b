import { Availability, UsernameParams } from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { errors, type RouteDeps, typed } from "../shared.js";

/** Public: whether a username is free. */
export async function usernameCheckRoutes(app: FastifyInstance, { services }: RouteDeps) {
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
}
