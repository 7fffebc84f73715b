import {
  CreateDeviceBody,
  Device,
  DeviceList,
  DeviceParams,
  RotateKeyBody,
  UpdateDeviceBody,
} from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { errors, type RouteDeps, typed } from "../shared.js";

/** My devices and their WireGuard public keys. */
export async function deviceRoutes(app: FastifyInstance, { services }: RouteDeps) {
  const r = typed(app);
  const devices = services.devices;
  const common = { tags: ["devices"] };

  r.get(
    "/devices",
    {
      schema: {
        ...common,
        summary: "My devices, with the networks each is in",
        response: { 200: DeviceList, ...errors(401) },
      },
    },
    async (request) => devices.list(request.user.userId),
  );

  r.post(
    "/devices",
    {
      schema: {
        ...common,
        summary:
          "Register a device by its WireGuard public key (a body with private_key is refused: keys stay on the device)",
        body: CreateDeviceBody,
        response: { 201: Device, ...errors(400, 401, 409) },
      },
    },
    async (request, reply) => {
      const device = await devices.create(request.user.userId, request.body, request.context);
      return reply.code(201).send(device);
    },
  );

  r.get(
    "/devices/:id",
    {
      schema: {
        ...common,
        summary: "One of my devices",
        params: DeviceParams,
        response: { 200: Device, ...errors(400, 401, 404) },
      },
    },
    async (request) => devices.get(request.user.userId, request.params.id),
  );

  r.patch(
    "/devices/:id",
    {
      schema: {
        ...common,
        summary: "Rename a device; its networks hear peer.updated",
        params: DeviceParams,
        body: UpdateDeviceBody,
        response: { 200: Device, ...errors(400, 401, 404) },
      },
    },
    async (request) => devices.rename(request.user.userId, request.params.id, request.body, request.context),
  );

  r.delete(
    "/devices/:id",
    {
      schema: {
        ...common,
        summary: "Delete a device and its peers; each of its networks hears peer.removed",
        params: DeviceParams,
        response: { 204: Type.Null(), ...errors(400, 401, 404) },
      },
    },
    async (request, reply) => {
      await devices.remove(request.user.userId, request.params.id, request.context);
      return reply.code(204).send(null);
    },
  );

  r.post(
    "/devices/:id/rotate-key",
    {
      schema: {
        ...common,
        summary:
          "Replace the device's WireGuard public key; every network it is in hears peer.updated with the new key",
        params: DeviceParams,
        body: RotateKeyBody,
        response: { 200: Device, ...errors(400, 401, 404, 409) },
      },
    },
    async (request) =>
      devices.rotateKey(request.user.userId, request.params.id, request.body, request.context),
  );
}
