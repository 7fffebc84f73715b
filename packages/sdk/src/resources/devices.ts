import type { CreateDeviceBody, Device, DeviceList, Static, UpdateDeviceBody } from "@warren/protocol";
import type { Http } from "../transport/http.js";
import { path } from "./path.js";

/** My devices and their WireGuard public keys; private keys never leave the device. */
export function devicesResource(http: Http) {
  const one = (id: string) => path`/v1/devices/${id}`;
  return {
    list: () => http<Static<typeof DeviceList>>("GET", "/v1/devices"),
    get: (id: string) => http<Device>("GET", one(id)),
    create: (body: CreateDeviceBody) => http<Device>("POST", "/v1/devices", body),
    /** Renames the device; its networks hear peer.updated. */
    update: (id: string, body: Static<typeof UpdateDeviceBody>) => http<Device>("PATCH", one(id), body),
    remove: (id: string) => http<void>("DELETE", one(id)),
    /** Replaces the WireGuard public key; every network of the device hears peer.updated. */
    rotateKey: (id: string, publicKey: string) =>
      http<Device>("POST", `${one(id)}/rotate-key`, { public_key: publicKey }),
  };
}
