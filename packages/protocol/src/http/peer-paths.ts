import { type Static, Type } from "typebox";
import { Id, Timestamp } from "./common.js";

/**
 * The path a device's packets take to each peer of a network (direct or through the
 * relay), with the reason in words, as the device's daemon last reported it.
 */

export const NatMapping = Type.Union(
  [
    Type.Literal("none"),
    Type.Literal("cone"),
    Type.Literal("symmetric"),
    Type.Literal("udp-blocked"),
    Type.Literal("unknown"),
  ],
  {
    description:
      "how the device's NAT maps UDP: none (public address), cone (one mapping for every destination), symmetric (one per destination), udp-blocked, unknown",
  },
);

export const PeerPath = Type.Object({
  device_id: Id,
  path: Type.Union([Type.Literal("direct"), Type.Literal("relay")]),
  endpoint: Type.Union([Type.String({ maxLength: 64 }), Type.Null()], {
    description: '"host:port" packets go to on a direct path; null on the relay',
  }),
  local_candidate: Type.String({
    maxLength: 16,
    description: "which of the reporting device's candidates the peer reaches: host, srflx, fixed, relay",
  }),
  relay_instance: Type.Union([Type.String({ maxLength: 64 }), Type.Null()], {
    description: "the server instance relaying, on the relay",
  }),
  reason: Type.String({
    maxLength: 120,
    description: 'in words: "direct: hole punched", "relay: UDP blocked here"',
  }),
  rtt_ms: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
});
export type PeerPath = Static<typeof PeerPath>;

export const PeerPathsBody = Type.Object({
  nat: NatMapping,
  paths: Type.Array(PeerPath, { maxItems: 1024, description: "one entry per other peer of the network" }),
});
export type PeerPathsBody = Static<typeof PeerPathsBody>;

export const PeerPathReport = Type.Object({
  nat: NatMapping,
  paths: Type.Array(PeerPath),
  updated_at: Timestamp,
});
export type PeerPathReport = Static<typeof PeerPathReport>;
