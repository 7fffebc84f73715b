import { RecoveryCodes, TotpCodeBody, TotpSetup } from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { errors, type RouteDeps, typed } from "../shared.js";

/** Second factor: set up, confirm (returns recovery codes), turn off. */
export async function totpRoutes(app: FastifyInstance, { services, requireFresh }: RouteDeps) {
  const r = typed(app);
  const common = { tags: ["auth"] };

  r.post(
    "/auth/totp",
    {
      preHandler: requireFresh,
      schema: {
        ...common,
        summary: "Start TOTP setup: a new secret and otpauth:// URL (not on until confirmed)",
        response: { 200: TotpSetup, ...errors(401, 403, 409) },
      },
    },
    async (request) => services.totp.setup(request.user.userId, request.context),
  );

  r.post(
    "/auth/totp/confirm",
    {
      preHandler: requireFresh,
      schema: {
        ...common,
        summary: "Turn TOTP on with a current code; returns ten single-use recovery codes",
        body: TotpCodeBody,
        response: { 200: RecoveryCodes, ...errors(400, 401, 403, 409, 429) },
      },
    },
    async (request) => services.totp.confirm(request.user.userId, request.body.code, request.context),
  );

  r.delete(
    "/auth/totp",
    {
      preHandler: requireFresh,
      schema: {
        ...common,
        summary: "Turn TOTP off with a current code or a recovery code",
        body: TotpCodeBody,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 409, 429) },
      },
    },
    async (request, reply) => {
      await services.totp.disable(request.user.userId, request.body.code, request.context);
      return reply.code(204).send(null);
    },
  );
}
