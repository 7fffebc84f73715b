import {
  Ban,
  BanList,
  ChangeRoleBody,
  CreateBanBody,
  MemberListQuery,
  Tenant,
  TenantMember,
  TenantMemberList,
  TenantMemberParams,
  TenantParams,
  TransferBody,
} from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { principalOf } from "../../plugins/authenticate.js";
import { bearer, contextOf, errors, type RouteDeps, typed } from "../shared.js";

/** A community's members: list, roles, kick, leave, ownership, bans. */
export async function tenantMemberRoutes(app: FastifyInstance, { services, requireAuth }: RouteDeps) {
  const r = typed(app);
  const common = { tags: ["communities"], security: bearer };
  const members = services.tenantMembers;

  r.get(
    "/tenants/:id/members",
    {
      preHandler: requireAuth,
      schema: {
        ...common,
        summary: "Members of a community I belong to, in the order they joined",
        params: TenantParams,
        querystring: MemberListQuery,
        response: { 200: TenantMemberList, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => members.list(principalOf(request).userId, request.params.id, request.query),
  );

  r.patch(
    "/tenants/:id/members/:user_id",
    {
      preHandler: requireAuth,
      schema: {
        ...common,
        summary: "Change a member's role (admin and owner; only below their own role)",
        params: TenantMemberParams,
        body: ChangeRoleBody,
        response: { 200: TenantMember, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) =>
      members.changeRole(
        principalOf(request).userId,
        request.params.id,
        request.params.user_id,
        request.body.role,
        contextOf(request),
      ),
  );

  const leave = {
    preHandler: requireAuth,
    schema: {
      ...common,
      summary: "Leave a community (the owner transfers ownership first)",
      params: TenantParams,
      response: { 204: Type.Null(), ...errors(400, 401, 404, 409) },
    },
  };
  for (const [method, path] of [
    ["DELETE", "/tenants/:id/members/me"],
    ["POST", "/tenants/:id/leave"],
  ] as const) {
    r.route({
      method,
      url: path,
      ...leave,
      handler: async (request, reply) => {
        await members.leave(principalOf(request).userId, request.params.id, contextOf(request));
        return reply.code(204).send(null);
      },
    });
  }

  r.delete(
    "/tenants/:id/members/:user_id",
    {
      preHandler: requireAuth,
      schema: {
        ...common,
        summary: "Kick a member (moderators and above; only members below them, never the owner)",
        params: TenantMemberParams,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await members.kick(
        principalOf(request).userId,
        request.params.id,
        request.params.user_id,
        contextOf(request),
      );
      return reply.code(204).send(null);
    },
  );

  r.post(
    "/tenants/:id/transfer",
    {
      preHandler: requireAuth,
      schema: {
        ...common,
        summary: "Hand ownership to another member (owner only); you become an admin",
        params: TenantParams,
        body: TransferBody,
        response: { 200: Tenant, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) =>
      members.transfer(
        principalOf(request).userId,
        request.params.id,
        request.body.user_id,
        contextOf(request),
      ),
  );

  r.post(
    "/tenants/:id/bans",
    {
      preHandler: requireAuth,
      schema: {
        ...common,
        summary: "Ban a user, member or not, for good or until a time; a member is removed at once",
        params: TenantParams,
        body: CreateBanBody,
        response: { 201: Ban, ...errors(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const ban = await members.ban(
        principalOf(request).userId,
        request.params.id,
        request.body,
        contextOf(request),
      );
      return reply.code(201).send(ban);
    },
  );

  r.get(
    "/tenants/:id/bans",
    {
      preHandler: requireAuth,
      schema: {
        ...common,
        summary: "Bans in force (moderators and above)",
        params: TenantParams,
        response: { 200: BanList, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => members.bans(principalOf(request).userId, request.params.id),
  );

  r.delete(
    "/tenants/:id/bans/:user_id",
    {
      preHandler: requireAuth,
      schema: {
        ...common,
        summary: "Lift a ban (moderators and above)",
        params: TenantMemberParams,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await members.unban(
        principalOf(request).userId,
        request.params.id,
        request.params.user_id,
        contextOf(request),
      );
      return reply.code(204).send(null);
    },
  );
}
