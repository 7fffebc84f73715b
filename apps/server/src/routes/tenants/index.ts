import {
  CreateTenantBody,
  JoinTenantBody,
  Tenant,
  TenantList,
  TenantListQuery,
  TenantParams,
  UpdateTenantBody,
} from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { errors, type RouteDeps, typed } from "../shared.js";
import { tenantInviteRoutes } from "./invites.js";
import { tenantMemberRoutes } from "./members.js";

/** Communities (/v1/tenants): create, list, discover, read, change, delete, join. */
export async function tenantRoutes(app: FastifyInstance, deps: RouteDeps) {
  const { services } = deps;
  const r = typed(app);
  const common = { tags: ["communities"] };

  r.post(
    "/tenants",
    {
      schema: {
        ...common,
        summary: "Create a community; you are its owner",
        body: CreateTenantBody,
        response: { 201: Tenant, ...errors(400, 401) },
      },
    },
    async (request, reply) => {
      const tenant = await services.tenants.create(request.user.userId, request.body, request.context);
      return reply.code(201).send(tenant);
    },
  );

  r.get(
    "/tenants",
    {
      schema: {
        ...common,
        summary: "My communities, or with ?discover=1 public ones (search by name, paginated)",
        querystring: TenantListQuery,
        response: { 200: TenantList, ...errors(400, 401) },
      },
    },
    async (request) => {
      const userId = request.user.userId;
      const { discover, ...query } = request.query;
      if (discover === "1" || discover === "true") return services.tenants.discover(userId, query);
      return services.tenants.mine(userId);
    },
  );

  r.get(
    "/tenants/:id",
    {
      schema: {
        ...common,
        summary: "A community I belong to, or any public one",
        params: TenantParams,
        response: { 200: Tenant, ...errors(400, 401, 404) },
      },
    },
    async (request) => services.tenants.get(request.user.userId, request.params.id),
  );

  r.patch(
    "/tenants/:id",
    {
      schema: {
        ...common,
        summary: "Change a community's settings (admin and owner)",
        params: TenantParams,
        body: UpdateTenantBody,
        response: { 200: Tenant, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) =>
      services.tenants.update(request.user.userId, request.params.id, request.body, request.context),
  );

  r.delete(
    "/tenants/:id",
    {
      schema: {
        ...common,
        summary: "Delete a community with its networks, chat and invites (owner only)",
        params: TenantParams,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await services.tenants.delete(request.user.userId, request.params.id, request.context);
      return reply.code(204).send(null);
    },
  );

  // POST /tenants/:id/members is the same thing at the path earlier clients use.
  for (const path of ["/tenants/:id/join", "/tenants/:id/members"]) {
    r.post(
      path,
      {
        schema: {
          ...common,
          summary: "Join a community: open, with its password, or with an invite code",
          params: TenantParams,
          body: JoinTenantBody,
          response: { 200: Tenant, ...errors(400, 401, 403, 404, 409, 429) },
        },
      },
      async (request) =>
        services.tenantMembers.join(request.user.userId, request.params.id, request.body, request.context),
    );
  }

  await app.register(tenantMemberRoutes, deps);
  await app.register(tenantInviteRoutes, deps);
}
