import { AuditList, AuditQuery, IdParams } from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { errors, type RouteDeps, typed } from "../shared.js";

/** A community's audit log: admins and the owner. */
export async function auditRoutes(app: FastifyInstance, { services }: RouteDeps) {
  const r = typed(app);

  r.get(
    "/tenants/:id/audit",
    {
      schema: {
        tags: ["audit"],
        summary: "The community's audit log, newest first, filtered by action (or prefix), actor and time",
        params: IdParams,
        querystring: AuditQuery,
        response: { 200: AuditList, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => services.auditLog.list(request.params.id, request.user.userId, request.query),
  );
}
