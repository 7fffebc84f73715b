import {
  AcceptedInvite,
  AcceptInviteBody,
  CreateInviteBody,
  Invite,
  InviteList,
  TenantInviteParams,
  TenantParams,
} from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { errors, type RouteDeps, typed } from "../shared.js";

/** Invite codes: made by moderators and above, redeemed by anyone signed in. */
export async function tenantInviteRoutes(app: FastifyInstance, { services }: RouteDeps) {
  const r = typed(app);
  const common = { tags: ["communities"] };
  const invites = services.invites;

  r.post(
    "/tenants/:id/invites",
    {
      schema: {
        ...common,
        summary: "Create an invite (moderators and above; its role may not exceed yours)",
        params: TenantParams,
        body: CreateInviteBody,
        response: { 201: Invite, ...errors(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const invite = await invites.create(
        request.user.userId,
        request.params.id,
        request.body,
        request.context,
      );
      return reply.code(201).send(invite);
    },
  );

  r.get(
    "/tenants/:id/invites",
    {
      schema: {
        ...common,
        summary: "A community's invites, newest first (moderators and above)",
        params: TenantParams,
        response: { 200: InviteList, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => invites.list(request.user.userId, request.params.id),
  );

  r.delete(
    "/tenants/:id/invites/:invite_id",
    {
      schema: {
        ...common,
        summary: "Revoke an invite (moderators and above)",
        params: TenantInviteParams,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await invites.revoke(request.user.userId, request.params.id, request.params.invite_id, request.context);
      return reply.code(204).send(null);
    },
  );

  r.post(
    "/invites/accept",
    {
      schema: {
        ...common,
        summary: "Join with an invite code: its community, and its network if it names one",
        body: AcceptInviteBody,
        response: { 200: AcceptedInvite, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (request) => invites.redeem(request.user.userId, request.body.code, request.context),
  );
}
