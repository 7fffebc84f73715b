import {
  AddPeerBody,
  DeviceParams,
  NetworkParams,
  NetworkPeer,
  PeerAddressBody,
  PeerConfigQuery,
  PeerEndpointBody,
  PeerListResponse,
  PeerParams,
  WireGuardConfig,
  WireGuardConfigText,
} from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { renderWgQuick } from "../../services/wg-config.js";
import { errors, type RouteDeps, typed } from "../shared.js";

/** Peers: devices joining a network, their addresses, endpoints and WireGuard configs. */
export async function peerRoutes(app: FastifyInstance, { services }: RouteDeps) {
  const r = typed(app);
  const peers = services.peers;
  const common = { tags: ["peers"] };
  // Path ids: a network's on /networks/:id/peers, a peer's on /peers/:id (both UUIDs).
  const IdParams = DeviceParams;

  r.post(
    "/networks/:id/peers",
    {
      schema: {
        ...common,
        summary: "Add my device to the network: it gets the lowest (or a random) free address",
        params: NetworkParams,
        body: AddPeerBody,
        response: { 201: NetworkPeer, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const peer = await peers.add(request.user.userId, request.params.id, request.body, request.context);
      return reply.code(201).send(peer);
    },
  );

  r.get(
    "/networks/:id/peers",
    {
      schema: {
        ...common,
        summary:
          "The network's devices: address, public key, endpoint, online, last seen (active members and admins)",
        params: IdParams,
        response: { 200: PeerListResponse, ...errors(400, 401, 404) },
      },
    },
    async (request) =>
      services.peerPaths.attach(request.params.id, await peers.list(request.user.userId, request.params.id)),
  );

  r.delete(
    "/peers/:id",
    {
      schema: {
        ...common,
        summary:
          "Take a device out of a network (its owner, or an admin of the community); members hear peer.removed",
        params: IdParams,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await peers.remove(request.user.userId, request.params.id, request.context);
      return reply.code(204).send(null);
    },
  );

  r.patch(
    "/peers/:id/endpoint",
    {
      schema: {
        ...common,
        summary: "Report where my device can be reached in this network; members hear peer.updated",
        params: IdParams,
        body: PeerEndpointBody,
        response: { 200: NetworkPeer, ...errors(400, 401, 404) },
      },
    },
    async (request) =>
      peers.setEndpoint(request.user.userId, request.params.id, request.body.endpoint, request.context),
  );

  r.patch(
    "/peers/:id/address",
    {
      schema: {
        ...common,
        summary: "Move a device to another address (admins and the owner); members hear peer.updated",
        params: PeerParams,
        body: PeerAddressBody,
        response: { 200: NetworkPeer, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      peers.changeAddress(request.user.userId, request.params.id, request.body.address, request.context),
  );

  r.get(
    "/peers/:id/config",
    {
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
      const config = await peers.config(request.user.userId, request.params.id);
      if (request.query.format === "json") return reply.type("application/json; charset=utf-8").send(config);
      return reply.type("text/plain; charset=utf-8").send(renderWgQuick(config));
    },
  );
}
