import {
  DirectHistoryQuery,
  DirectMessageAccepted,
  DirectMessageList,
  SendDirectMessageBody,
} from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { errors, type RouteDeps, typed } from "../shared.js";

/**
 * End-to-end encrypted direct messages over REST: the same
 * service as the hub's dm.send. The body is sealed copies; it is never logged.
 */
export async function directMessageRoutes(app: FastifyInstance, { services }: RouteDeps) {
  const r = typed(app);
  const common = { tags: ["direct messages"] };

  r.post(
    "/messages/direct",
    {
      schema: {
        ...common,
        summary:
          "Send a direct message as sealed copies: 201 once stored, 200 with the stored message for a retry of its client_msg_id",
        body: SendDirectMessageBody,
        response: { 200: DirectMessageAccepted, 201: DirectMessageAccepted, ...errors(400, 401, 404, 409) },
      },
    },
    async (request, reply) => {
      const { duplicate, ...accepted } = await services.directMessages.send(
        request.user.userId,
        request.body,
      );
      return reply.code(duplicate ? 200 : 201).send(accepted);
    },
  );

  r.get(
    "/messages/direct",
    {
      schema: {
        ...common,
        summary:
          "My device key's copies of my conversation with a user, newest first; pass next_cursor as ?before= for older ones",
        querystring: DirectHistoryQuery,
        response: { 200: DirectMessageList, ...errors(400, 401, 404) },
      },
    },
    async (request) => services.directMessages.history(request.user.userId, request.query),
  );
}
