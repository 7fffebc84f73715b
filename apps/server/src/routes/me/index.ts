import { DeleteMeBody, PersonalDataExport } from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { errors, type RouteDeps, typed } from "../shared.js";

/** Data rights (GDPR access, portability, erasure): a copy of your data, and deleting your account. */
export async function meRoutes(app: FastifyInstance, { services }: RouteDeps) {
  const r = typed(app);

  r.get(
    "/me/export",
    {
      schema: {
        tags: ["me"],
        summary:
          "Everything the server holds about you, as one JSON file (no secrets: no hashes, no TOTP secret)",
        response: { 200: PersonalDataExport, ...errors(401) },
      },
    },
    async (request, reply) => {
      const data = await services.dataRights.export(request.user.userId);
      const day = data.exported_at.slice(0, 10);
      reply.header(
        "content-disposition",
        `attachment; filename="warren-export-${data.profile.username}-${day}.json"`,
      );
      reply.header("cache-control", "no-store");
      return data;
    },
  );

  r.delete(
    "/me",
    {
      schema: {
        tags: ["me"],
        summary:
          'Delete your account: password accounts send the password, key-only accounts confirm:"delete my account"',
        body: DeleteMeBody,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 409, 429) },
      },
    },
    async (request, reply) => {
      await services.dataRights.deleteAccount(request.user.userId, request.body, request.context);
      return reply.code(204).send(null);
    },
  );
}
