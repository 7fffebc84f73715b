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
import { errors, type RouteDeps, typed } from "../shared.js";

/** A community's members: list, roles, kick, leave, ownership, bans. */
export async function tenantMemberRoutes(app: FastifyInstance, { services }: RouteDeps) {
  const r = typed(app);
  const common = { tags: ["communities"] };
  const members = services.tenantMembers;

  r.get(
    "/tenants/:id/members",
    {
      schema: {
        ...common,
        summary: "Members of a community I belong to, in the order they joined",
        params: TenantParams,
        querystring: MemberListQuery,
        response: { 200: TenantMemberList, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => members.list(request.user.userId, request.params.id, request.query),
  );

  r.patch(
    "/tenants/:id/members/:user_id",
    {
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
        request.user.userId,
        request.params.id,
        request.params.user_id,
        request.body.role,
        request.context,
      ),
  );

  const leave = {
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
        await members.leave(request.user.userId, request.params.id, request.context);
        return reply.code(204).send(null);
      },
    });
  }

  r.delete(
    "/tenants/:id/members/:user_id",
    {
      schema: {
        ...common,
        summary: "Kick a member (moderators and above; only members below them, never the owner)",
        params: TenantMemberParams,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await members.kick(request.user.userId, request.params.id, request.params.user_id, request.context);
      return reply.code(204).send(null);
    },
  );

  r.post(
    "/tenants/:id/transfer",
    {
      schema: {
        ...common,
        summary: "Hand ownership to another member (owner only); you become an admin",
        params: TenantParams,
        body: TransferBody,
        response: { 200: Tenant, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) =>
      members.transfer(request.user.userId, request.params.id, request.body.user_id, request.context),
  );

  r.post(
    "/tenants/:id/bans",
    {
      schema: {
        ...common,
        summary: "Ban a user, member or not, for good or until a time; a member is removed at once",
        params: TenantParams,
        body: CreateBanBody,
        response: { 201: Ban, ...errors(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const ban = await members.ban(request.user.userId, request.params.id, request.body, request.context);
      return reply.code(201).send(ban);
    },
  );

  r.get(
    "/tenants/:id/bans",
    {
      schema: {
        ...common,
        summary: "Bans in force (moderators and above)",
        params: TenantParams,
        response: { 200: BanList, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => members.bans(request.user.userId, request.params.id),
  );

  r.delete(
    "/tenants/:id/bans/:user_id",
    {
      schema: {
        ...common,
        summary: "Lift a ban (moderators and above)",
        params: TenantMemberParams,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await members.unban(request.user.userId, request.params.id, request.params.user_id, request.context);
      return reply.code(204).send(null);
    },
  );
}
