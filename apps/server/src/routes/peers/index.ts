import {
  DeviceParams,
  NetworkPeer,
  PeerConfigQuery,
  PeerEndpointBody,
  PeerListResponse,
  PeerPathReport,
  PeerPathsBody,
  WireGuardConfig,
  WireGuardConfigText,
} from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { principalOf } from "../../plugins/authenticate.js";
import { renderWgQuick } from "../../services/wg-config.js";
import { bearer, contextOf, errors, type RouteDeps, typed } from "../shared.js";

/** Peers of a network, their endpoints and WireGuard configs. */
export async function peerRoutes(app: FastifyInstance, { services, requireAuth }: RouteDeps) {
  const r = typed(app);
  const peers = services.peers;
  const common = { tags: ["peers"], security: bearer };
  // Path ids: a network's on /networks/:id/peers, a peer's on /peers/:id (both UUIDs).
  const IdParams = DeviceParams;

  r.get(
    "/networks/:id/peers",
    {
      preHandler: requireAuth,
      schema: {
        ...common,
        summary:
          "The network's devices: address, public key, endpoint, online, last seen (active members and admins)",
        params: IdParams,
        response: { 200: PeerListResponse, ...errors(400, 401, 404) },
      },
    },
    async (request) =>
      services.peerPaths.attach(
        request.params.id,
        await peers.list(principalOf(request).userId, request.params.id),
      ),
  );

  r.delete(
    "/peers/:id",
    {
      preHandler: requireAuth,
      schema: {
        ...common,
        summary:
          "Take a device out of a network (its owner, or an admin of the community); members hear peer.removed",
        params: IdParams,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await peers.remove(principalOf(request).userId, request.params.id, contextOf(request));
      return reply.code(204).send(null);
    },
  );

  r.put(
    "/peers/:id/paths",
    {
      preHandler: requireAuth,
      schema: {
        ...common,
        summary:
          "Report the path my device uses to each other peer (direct or relay, and why); members hear peer.path",
        params: IdParams,
        body: PeerPathsBody,
        response: { 200: PeerPathReport, ...errors(400, 401, 404) },
      },
    },
    async (request) =>
      services.peerPaths.report(principalOf(request).userId, request.params.id, request.body),
  );

  r.patch(
    "/peers/:id/endpoint",
    {
      preHandler: requireAuth,
      schema: {
        ...common,
        summary: "Report where my device can be reached in this network; members hear peer.updated",
        params: IdParams,
        body: PeerEndpointBody,
        response: { 200: NetworkPeer, ...errors(400, 401, 404) },
      },
    },
    async (request) =>
      peers.setEndpoint(
        principalOf(request).userId,
        request.params.id,
        request.body.endpoint,
        contextOf(request),
      ),
  );

  r.get(
    "/peers/:id/config",
    {
      preHandler: requireAuth,
      schema: {
        ...common,
        summary:
          "My device's WireGuard config for this network: wg-quick text (text/plain) with PrivateKey left to fill in, or ?format=json",
        params: IdParams,
        querystring: PeerConfigQuery,
        response: {
          200: {
            description: "wg-quick text by default; the same content as JSON with ?format=json",
            content: {
              "text/plain": { schema: WireGuardConfigText },
              "application/json": { schema: WireGuardConfig },
            },
          },
          ...errors(400, 401, 404),
        },
      },
    },
    async (request, reply) => {
      const config = await peers.config(principalOf(request).userId, request.params.id);
      if (request.query.format === "json") return reply.type("application/json; charset=utf-8").send(config);
      return reply.type("text/plain; charset=utf-8").send(renderWgQuick(config));
    },
  );
}
