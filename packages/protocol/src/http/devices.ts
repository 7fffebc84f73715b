import { type Static, Type } from "typebox";
import { UUID_PATTERN } from "../ids.js";
import { Id, NAME_PATTERN, Timestamp } from "./common.js";
import { NetworkPeer } from "./networks.js";

/**
 * Devices (a user's machines, each with a WireGuard public key), their peers in
 * networks, and the WireGuard config the server builds for a peer. The
 * server never takes a private key: configs leave PrivateKey for the client to fill.
 */

/** The peer object networks, devices and peers share (one schema: networks.ts declares it). */
export const Peer = NetworkPeer;
export type Peer = NetworkPeer;

export const DevicePlatform = Type.Union(
  [
    Type.Literal("linux"),
    Type.Literal("macos"),
    Type.Literal("windows"),
    Type.Literal("ios"),
    Type.Literal("android"),
    Type.Literal("other"),
  ],
  { description: "the operating system the device runs" },
);
export type DevicePlatform = Static<typeof DevicePlatform>;

const DeviceName = Type.String({ minLength: 1, maxLength: 64, pattern: NAME_PATTERN });
/**
 * Checked by the server (not by pattern) so a bad key answers invalid_public_key
 * rather than invalid_request.
 */
export const WireGuardPublicKey = Type.String({
  minLength: 1,
  maxLength: 128,
  description:
    "WireGuard public key: standard base64 of exactly 32 bytes (44 characters, as `wg pubkey` prints)",
});

export const DeviceNetwork = Type.Object({
  network_id: Id,
  peer_id: Id,
  address: Type.String({ description: "the device's address in that network" }),
});

export const Device = Type.Object({
  id: Id,
  name: Type.String(),
  platform: DevicePlatform,
  public_key: Type.String({ description: "WireGuard public key, base64" }),
  last_seen: Type.Union([Timestamp, Type.Null()], {
    description: "when a hub socket of this device last opened or closed",
  }),
  created_at: Timestamp,
  updated_at: Timestamp,
  networks: Type.Array(DeviceNetwork, { description: "the networks the device is a peer of" }),
});
export type Device = Static<typeof Device>;

export const DeviceList = Type.Object({ devices: Type.Array(Device, { description: "oldest first" }) });

export const CreateDeviceBody = Type.Object({
  name: DeviceName,
  platform: DevicePlatform,
  public_key: WireGuardPublicKey,
});
export type CreateDeviceBody = Static<typeof CreateDeviceBody>;

export const UpdateDeviceBody = Type.Object({ name: Type.Optional(DeviceName) });

export const RotateKeyBody = Type.Object({ public_key: WireGuardPublicKey });

export const DeviceParams = Type.Object({ id: Type.String({ pattern: UUID_PATTERN }) });

export const PeerListResponse = Type.Object({
  peers: Type.Array(NetworkPeer, { description: "every device in the network, in address order" }),
});

export const PeerEndpointBody = Type.Object({
  endpoint: Type.String({
    minLength: 1,
    maxLength: 262,
    pattern: "^\\S+$",
    description: 'where the device can be reached: "host:port" (IPv4 or DNS name) or "[v6]:port"',
  }),
});

export const PeerConfigQuery = Type.Object({
  format: Type.Optional(
    Type.Union([Type.Literal("wg-quick"), Type.Literal("json")], {
      description: "default wg-quick (text/plain)",
    }),
  ),
});

export const WireGuardConfigPeer = Type.Object({
  peer_id: Id,
  name: Type.String({ description: "the device's name" }),
  public_key: Type.String(),
  allowed_ips: Type.Array(Type.String(), {
    description: 'the peer\'s address as a /32, e.g. ["10.1.0.3/32"]',
  }),
  endpoint: Type.Union([Type.String(), Type.Null()]),
  persistent_keepalive: Type.Integer({ description: "seconds; always 25" }),
});

/** GET /peers/:id/config?format=json: the same content as the wg-quick text. */
export const WireGuardConfig = Type.Object({
  interface: Type.Object({
    device_id: Id,
    device_name: Type.String(),
    network_id: Id,
    network_name: Type.String(),
    cidr: Type.String(),
    address: Type.String({ description: 'with the network\'s prefix, e.g. "10.1.0.2/24"' }),
    private_key: Type.Null({ description: "always null: the private key never leaves the device" }),
  }),
  peers: Type.Array(WireGuardConfigPeer, { description: "every other device of the network" }),
});
export type WireGuardConfig = Static<typeof WireGuardConfig>;

export const WireGuardConfigText = Type.String({
  description:
    "wg-quick config: [Interface] with a comment naming device and network, `PrivateKey = <fill in your private key>`, " +
    "Address = <address>/<prefix>; then one [Peer] per other device: PublicKey, AllowedIPs = <address>/32, " +
    "Endpoint when known, PersistentKeepalive = 25",
});
