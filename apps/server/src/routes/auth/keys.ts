import { AddKeyBody, IdParams, KeyList, PublicKeyRecord } from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { errors, type RouteDeps, typed } from "../shared.js";

/** The signed-in account's public keys: ed25519 keys sign in, x25519 keys receive messages. */
export async function keyRoutes(app: FastifyInstance, { services, requireFresh }: RouteDeps) {
  const r = typed(app);
  const common = { tags: ["auth"] };

  r.get(
    "/auth/keys",
    {
      schema: { ...common, summary: "My public keys", response: { 200: KeyList, ...errors(401) } },
    },
    async (request) => ({ keys: await services.accounts.keys(request.user.userId) }),
  );

  r.post(
    "/auth/keys",
    {
      preHandler: requireFresh,
      schema: {
        ...common,
        summary: "Add a public key to my account (needs a fresh proof of identity)",
        body: AddKeyBody,
        response: { 201: PublicKeyRecord, ...errors(400, 401, 403, 409) },
      },
    },
    async (request, reply) => {
      const key = await services.accounts.addKey(request.user.userId, request.body, request.context);
      return reply.code(201).send(key);
    },
  );

  r.delete(
    "/auth/keys/:id",
    {
      preHandler: requireFresh,
      schema: {
        ...common,
        summary: "Remove one of my public keys (needs a fresh proof of identity)",
        params: IdParams,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      await services.accounts.deleteKey(request.user.userId, request.params.id, request.context);
      return reply.code(204).send(null);
    },
  );
}
