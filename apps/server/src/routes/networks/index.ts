import {
  CreateNetworkBody,
  Network,
  NetworkList,
  NetworkParams,
  TenantNetworksParams,
  UpdateNetworkBody,
} from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { errors, type RouteDeps, typed } from "../shared.js";

/** A community's networks (virtual LANs): list, create, read, change, delete. */
export async function networkRoutes(app: FastifyInstance, { services }: RouteDeps) {
  const r = typed(app);
  const common = { tags: ["networks"] };

  r.get(
    "/tenants/:tenant_id/networks",
    {
      schema: {
        ...common,
        summary: "The community's networks I may see",
        params: TenantNetworksParams,
        response: { 200: NetworkList, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => services.networks.list(request.user.userId, request.params.tenant_id),
  );

  r.post(
    "/tenants/:tenant_id/networks",
    {
      schema: {
        ...common,
        summary: "Create a network (admins and the owner); the creator is its first member",
        params: TenantNetworksParams,
        body: CreateNetworkBody,
        response: { 201: Network, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const network = await services.networks.create(
        request.user.userId,
        request.params.tenant_id,
        request.body,
        request.context,
      );
      return reply.code(201).send(network);
    },
  );

  r.get(
    "/networks/:id",
    {
      schema: {
        ...common,
        summary: "A network",
        params: NetworkParams,
        response: { 200: Network, ...errors(400, 401, 404) },
      },
    },
    async (request) => services.networks.get(request.user.userId, request.params.id),
  );

  r.patch(
    "/networks/:id",
    {
      schema: {
        ...common,
        summary: "Change a network (admins and the owner); the range only while it has no peers",
        params: NetworkParams,
        body: UpdateNetworkBody,
        response: { 200: Network, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      services.networks.update(request.user.userId, request.params.id, request.body, request.context),
  );

  r.delete(
    "/networks/:id",
    {
      schema: {
        ...common,
        summary: "Delete a network with its peers, memberships and chat (admins and the owner)",
        params: NetworkParams,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await services.networks.delete(request.user.userId, request.params.id, request.context);
      return reply.code(204).send(null);
    },
  );
}
