import {
  JoinStatus,
  NetworkBan,
  NetworkBanBody,
  NetworkBanList,
  NetworkMember,
  NetworkMemberList,
  NetworkParams,
  NetworkUserBody,
  NetworkUserParams,
} from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { errors, type RouteDeps, typed } from "../shared.js";

/** Who is in a network: join, requests and their answers, kick, ban, leave. */
export async function networkMemberRoutes(app: FastifyInstance, { services }: RouteDeps) {
  const r = typed(app);
  const common = { tags: ["networks"] };
  const members = services.networkMembers;
  const noContent = { 204: Type.Null() };

  r.post(
    "/networks/:id/join",
    {
      schema: {
        ...common,
        summary: "Join a network: at once (open) or as a request (approval); invite-only networks refuse",
        params: NetworkParams,
        response: { 201: JoinStatus, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const status = await members.join(request.user.userId, request.params.id, request.context);
      return reply.code(201).send(status);
    },
  );

  r.get(
    "/networks/:id/members",
    {
      schema: {
        ...common,
        summary: "The network's members (pending requests only for moderators and above)",
        params: NetworkParams,
        response: { 200: NetworkMemberList, ...errors(400, 401, 404) },
      },
    },
    async (request) => members.members(request.user.userId, request.params.id),
  );

  r.post(
    "/networks/:id/approve",
    {
      schema: {
        ...common,
        summary: "Approve a join request, or add a community member directly (moderators and above)",
        params: NetworkParams,
        body: NetworkUserBody,
        response: { 200: NetworkMember, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      members.approve(request.user.userId, request.params.id, request.body.user_id, request.context),
  );

  r.post(
    "/networks/:id/deny",
    {
      schema: {
        ...common,
        summary: "Deny a join request (moderators and above)",
        params: NetworkParams,
        body: NetworkUserBody,
        response: { ...noContent, ...errors(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await members.deny(request.user.userId, request.params.id, request.body.user_id, request.context);
      return reply.code(204).send(null);
    },
  );

  r.post(
    "/networks/:id/kick",
    {
      schema: {
        ...common,
        summary:
          "Remove a member and their devices from the network (moderators and above, over lower roles)",
        params: NetworkParams,
        body: NetworkUserBody,
        response: { ...noContent, ...errors(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await members.kick(request.user.userId, request.params.id, request.body.user_id, request.context);
      return reply.code(204).send(null);
    },
  );

  r.post(
    "/networks/:id/ban",
    {
      schema: {
        ...common,
        summary: "Ban a community member from the network, removing them and their devices",
        params: NetworkParams,
        body: NetworkBanBody,
        response: { 201: NetworkBan, ...errors(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const ban = await members.ban(request.user.userId, request.params.id, request.body, request.context);
      return reply.code(201).send(ban);
    },
  );

  r.get(
    "/networks/:id/bans",
    {
      schema: {
        ...common,
        summary: "Bans in force on the network (moderators and above)",
        params: NetworkParams,
        response: { 200: NetworkBanList, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => members.bans(request.user.userId, request.params.id),
  );

  r.delete(
    "/networks/:id/bans/:user_id",
    {
      schema: {
        ...common,
        summary: "Lift a network ban (moderators and above)",
        params: NetworkUserParams,
        response: { ...noContent, ...errors(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await members.unban(request.user.userId, request.params.id, request.params.user_id, request.context);
      return reply.code(204).send(null);
    },
  );

  r.post(
    "/networks/:id/leave",
    {
      schema: {
        ...common,
        summary: "Leave the network (or withdraw a request); my devices leave it too",
        params: NetworkParams,
        response: { ...noContent, ...errors(400, 401, 404) },
      },
    },
    async (request, reply) => {
      await members.leave(request.user.userId, request.params.id, request.context);
      return reply.code(204).send(null);
    },
  );
}
