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
import { errors, type RouteDeps, typed } from "../shared.js";

/** A device joining a network with an address; admins moving and reserving addresses. */
export async function addressRoutes(app: FastifyInstance, { services }: RouteDeps) {
  const r = typed(app);
  const addresses = services.addresses;

  r.post(
    "/networks/:id/peers",
    {
      schema: {
        tags: ["peers"],
        summary: "Add my device to the network: it gets the lowest (or a random) free address",
        params: NetworkParams,
        body: AddPeerBody,
        response: { 201: NetworkPeer, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const peer = await addresses.addPeer(
        request.user.userId,
        request.params.id,
        request.body,
        request.context,
      );
      return reply.code(201).send(peer);
    },
  );

  r.patch(
    "/peers/:id/address",
    {
      schema: {
        tags: ["peers"],
        summary: "Move a device to another address (admins and the owner); members hear peer_updated",
        params: PeerParams,
        body: PeerAddressBody,
        response: { 200: NetworkPeer, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      addresses.changeAddress(request.user.userId, request.params.id, request.body.address, request.context),
  );

  const common = { tags: ["networks"] };

  r.get(
    "/networks/:id/reservations",
    {
      schema: {
        ...common,
        summary: "Reserved addresses (admins and the owner)",
        params: NetworkParams,
        response: { 200: ReservationList, ...errors(400, 401, 403, 404) },
      },
    },
    async (request) => addresses.reservations(request.user.userId, request.params.id),
  );

  r.post(
    "/networks/:id/reservations",
    {
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
        request.user.userId,
        request.params.id,
        request.body,
        request.context,
      );
      return reply.code(201).send(reservation);
    },
  );

  r.delete(
    "/networks/:id/reservations/:address",
    {
      schema: {
        ...common,
        summary: "Release a reserved address (admins and the owner)",
        params: NetworkAddressParams,
        response: { 204: Type.Null(), ...errors(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await addresses.unreserve(
        request.user.userId,
        request.params.id,
        request.params.address,
        request.context,
      );
      return reply.code(204).send(null);
    },
  );
}
