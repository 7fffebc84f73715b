import {
  AddPeerBody,
  CreateReservationBody,
  NetworkAddressParams,
  NetworkParams,
  NetworkPeer,
  PeerAddressBody,
  PeerParams,
  Reservation,
  ReservationList,
} from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { principalOf } from "../../plugins/authenticate.js";
import { bearer, contextOf, errors, type RouteDeps, typed } from "../shared.js";

/** A device joining a network with an address; admins moving and reserving addresses. */
export async function addressRoutes(app: FastifyInstance, { services, requireAuth }: RouteDeps) {
  const r = typed(app);
  const addresses = services.addresses;

  r.post(
    "/networks/:id/peers",
    {
      preHandler: requireAuth,
      schema: {
        tags: ["peers"],
        security: bearer,
        summary: "Add my device to the network: it gets the lowest (or a random) free address",
        params: NetworkParams,
        body: AddPeerBody,
        response: { 201: NetworkPeer, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const peer = await addresses.addPeer(
        principalOf(request).userId,
        request.params.id,
        request.body,
        contextOf(request),
      );
      return reply.code(201).send(peer);
    },
  );

  r.patch(
    "/peers/:id/address",
    {
      preHandler: requireAuth,
      schema: {
        tags: ["peers"],
        security: bearer,
        summary: "Move a device to another address (admins and the owner); members hear peer.updated",
        params: PeerParams,
        body: PeerAddressBody,
        response: { 200: NetworkPeer, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      addresses.changeAddress(
        principalOf(request).userId,
        request.params.id,
        request.body.address,
        contextOf(request),
      ),
  );

  const common = { tags: ["networks"], security: bearer };

  r.get(
    "/networks/:id/reservations",
    {
      preHandler: requireAuth,
      schema: {
        ...common,
        summary: "Reserved addresses (admins and the owner)",
        params: NetworkParams,
        response: { 200: ReservationList, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => addresses.reservations(principalOf(request).userId, request.params.id),
  );

  r.post(
    "/networks/:id/reservations",
    {
      preHandler: requireAuth,
      schema: {
        ...common,
        summary: "Reserve an address: it is never allocated (admins and the owner)",
        params: NetworkParams,
        body: CreateReservationBody,
        response: { 201: Reservation, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const reservation = await addresses.reserve(
        principalOf(request).userId,
        request.params.id,
        request.body,
        contextOf(request),
      );
      return reply.code(201).send(reservation);
    },
  );

  r.delete(
    "/networks/:id/reservations/:address",
    {
      preHandler: requireAuth,
      schema: {
        ...common,
        summary: "Release a reserved address (admins and the owner)",
        params: NetworkAddressParams,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await addresses.unreserve(
        principalOf(request).userId,
        request.params.id,
        request.params.address,
        contextOf(request),
      );
      return reply.code(204).send(null);
    },
  );
}
