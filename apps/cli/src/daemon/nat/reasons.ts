/**
 * How this device's NAT maps UDP, as far as two STUN answers tell:
 * - none: the address the server saw is one of this machine's own (a public address);
 * - cone: one mapping whatever the destination (endpoint-independent, RFC 4787), so a
 *   peer can reach the address the server saw once this device has sent to it;
 * - symmetric: a new mapping per destination: the server's view is useless to a peer;
 * - udp-blocked: no STUN answer at all;
 * - unknown: no STUN to ask, or only one answer.
 */
export type NatType = "none" | "cone" | "symmetric" | "udp-blocked" | "unknown";

export type CandidateType = "host" | "srflx" | "fixed" | "prflx";

/** Which working address wins: a LAN address over a forwarded port over a punched mapping. */
export const PRIORITY: Record<CandidateType, number> = { host: 3, fixed: 2, srflx: 1, prflx: 1 };

/** The one-line reason for a direct path. */
export function directReason(o: {
  type: CandidateType;
  sameLan: boolean;
  myNat: NatType;
  peerNat: NatType;
}): string {
  if (o.sameLan) return "direct: same LAN";
  if (o.type === "fixed") return "direct: fixed endpoint";
  if (o.peerNat === "none") return "direct: peer has a public address";
  if (o.myNat === "none") return "direct: this device has a public address";
  return "direct: hole punched";
}

/** The one-line reason a pair stays on the relay once checks gave no direct path. */
export function relayReason(o: {
  myNat: NatType;
  peerNat: NatType | undefined;
  heardFromPeer: boolean;
}): string {
  if (o.myNat === "udp-blocked") return "relay: UDP blocked here";
  if (!o.heardFromPeer) return "relay: peer offline from direct checks";
  if (o.peerNat === "udp-blocked") return "relay: UDP blocked at peer";
  if (o.myNat === "symmetric" && o.peerNat === "symmetric") return "relay: both sides symmetric NAT";
  if (o.myNat === "symmetric") return "relay: symmetric NAT here";
  if (o.peerNat === "symmetric") return "relay: symmetric NAT at peer";
  return "relay: direct checks failed";
}
