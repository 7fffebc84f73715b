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
import { principalOf } from "../../plugins/authenticate.js";
import { bearer, contextOf, errors, type RouteDeps, typed } from "../shared.js";

/** A community's networks (virtual LANs): list, create, read, change, delete. */
export async function networkRoutes(app: FastifyInstance, { services, requireAuth }: RouteDeps) {
  const r = typed(app);
  const common = { tags: ["networks"], security: bearer };

  r.get(
    "/tenants/:tenant_id/networks",
    {
      preHandler: requireAuth,
      schema: {
        ...common,
        summary: "The community's networks I may see",
        params: TenantNetworksParams,
        response: { 200: NetworkList, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => services.networks.list(principalOf(request).userId, request.params.tenant_id),
  );

  r.post(
    "/tenants/:tenant_id/networks",
    {
      preHandler: requireAuth,
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
        principalOf(request).userId,
        request.params.tenant_id,
        request.body,
        contextOf(request),
      );
      return reply.code(201).send(network);
    },
  );

  r.get(
    "/networks/:id",
    {
      preHandler: requireAuth,
      schema: {
        ...common,
        summary: "A network",
        params: NetworkParams,
        response: { 200: Network, ...errors(400, 401, 404) },
      },
    },
    async (request) => services.networks.get(principalOf(request).userId, request.params.id),
  );

  r.patch(
    "/networks/:id",
    {
      preHandler: requireAuth,
      schema: {
        ...common,
        summary: "Change a network (admins and the owner); the range only while it has no peers",
        params: NetworkParams,
        body: UpdateNetworkBody,
        response: { 200: Network, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      services.networks.update(
        principalOf(request).userId,
        request.params.id,
        request.body,
        contextOf(request),
      ),
  );

  r.delete(
    "/networks/:id",
    {
      preHandler: requireAuth,
      schema: {
        ...common,
        summary: "Delete a network with its peers, memberships and chat (admins and the owner)",
        params: NetworkParams,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await services.networks.delete(principalOf(request).userId, request.params.id, contextOf(request));
      return reply.code(204).send(null);
    },
  );
}
