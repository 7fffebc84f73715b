import {
  CreateReservationBody,
  NetworkAddressParams,
  NetworkParams,
  Reservation,
  ReservationList,
} from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { errors, type RouteDeps, typed } from "../shared.js";

/** Reserved addresses of a network: never allocated to a device. */
export async function reservationRoutes(app: FastifyInstance, { services }: RouteDeps) {
  const r = typed(app);
  const addresses = services.addresses;
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
