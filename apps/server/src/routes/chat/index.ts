import {
  ChatListQuery,
  ChatMessage,
  ChatMessageList,
  EditMessageBody,
  IdParams,
  PostMessageBody,
} from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { errors, type RouteDeps, typed } from "../shared.js";

/**
 * Community and network chat, at the paths earlier clients use. Messages by id live at
 * /messages/:id whichever channel they are in: the id alone finds the channel.
 */
export async function chatRoutes(app: FastifyInstance, { services }: RouteDeps) {
  const r = typed(app);

  for (const kind of ["tenant", "network"] as const) {
    const path = kind === "tenant" ? "/tenants/:id/messages" : "/networks/:id/messages";
    const where = kind === "tenant" ? "a community's channel" : "a network's channel";

    r.post(
      path,
      {
        schema: {
          tags: ["chat"],
          summary: `Post to ${where}; stored before the answer, then sent to members as chat.message`,
          params: IdParams,
          body: PostMessageBody,
          response: { 201: ChatMessage, ...errors(400, 401, 403, 404) },
        },
      },
      async (request, reply) => {
        const message = await services.chat.post(
          kind,
          request.params.id,
          request.user.userId,
          request.body.content,
        );
        return reply.code(201).send(message);
      },
    );

    r.get(
      path,
      {
        schema: {
          tags: ["chat"],
          summary: `Messages of ${where}, newest first; pass next_cursor as ?before= for older ones`,
          params: IdParams,
          querystring: ChatListQuery,
          response: { 200: ChatMessageList, ...errors(400, 401, 404) },
        },
      },
      async (request) => services.chat.list(kind, request.params.id, request.user.userId, request.query),
    );
  }

  r.patch(
    "/messages/:id",
    {
      schema: {
        tags: ["chat"],
        summary: "Edit your message; members are sent chat.message_updated",
        params: IdParams,
        body: EditMessageBody,
        response: { 200: ChatMessage, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => services.chat.edit(request.params.id, request.user.userId, request.body.content),
  );

  r.delete(
    "/messages/:id",
    {
      schema: {
        tags: ["chat"],
        summary:
          "Delete your message, or anyone's as a moderator or above; members are sent chat.message_deleted",
        params: IdParams,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await services.chat.delete(request.params.id, request.user.userId, request.context);
      return reply.code(204).send(null);
    },
  );
}
