import { BlockedUser, BlockList, IdParams } from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { errors, type RouteDeps, typed } from "../shared.js";

/** Blocking: a blocked user's direct messages, and yours to them, answer peer_unavailable. */
export async function blockRoutes(app: FastifyInstance, { services }: RouteDeps) {
  const r = typed(app);
  const common = { tags: ["users"] };

  r.post(
    "/users/:id/block",
    {
      schema: {
        ...common,
        summary: "Block a user: no direct messages either way; 201, or 200 when already blocked",
        params: IdParams,
        response: { 200: BlockedUser, 201: BlockedUser, ...errors(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const { created, ...blocked } = await services.blocks.block(
        request.user.userId,
        request.params.id,
        request.context,
      );
      return reply.code(created ? 201 : 200).send(blocked);
    },
  );

  r.delete(
    "/users/:id/block",
    {
      schema: {
        ...common,
        summary: "Unblock a user",
        params: IdParams,
        response: { 204: Type.Null(), ...errors(400, 401, 404) },
      },
    },
    async (request, reply) => {
      await services.blocks.unblock(request.user.userId, request.params.id, request.context);
      return reply.code(204).send(null);
    },
  );

  r.get(
    "/me/blocks",
    {
      schema: {
        ...common,
        summary: "The users I blocked, oldest block first",
        response: { 200: BlockList, ...errors(401) },
      },
    },
    async (request) => ({ blocks: await services.blocks.list(request.user.userId) }),
  );
}
