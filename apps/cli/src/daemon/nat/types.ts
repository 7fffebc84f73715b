import type { NatType } from "./reasons.js";

/** The shapes the path manager, the daemon and `warren status` share. */

/** A peer of the network, as the server lists it. */
export interface PeerInfo {
  publicKey: string;
  deviceId: string;
  userId: string;
  name: string;
}

export interface Candidate {
  type: "host" | "srflx" | "fixed";
  /** "a.b.c.d:port" */
  addr: string;
}

/** What two devices tell each other through the hub before checking (a `signal` payload). */
export interface Offer {
  warren: "paths/1";
  network: string;
  key: string;
  nat: NatType;
  candidates: Candidate[];
  relay: { instance: string; url: string | null } | null;
  /** an answer to the peer's offer: do not answer it again */
  reply: boolean;
}

export interface PeerPathStatus {
  public_key: string;
  device_id: string;
  name: string;
  path: "direct" | "relay";
  /** the address packets go to on the direct path; null on the relay */
  endpoint: string | null;
  /** which of this device's candidates the peer reaches: host, srflx, fixed or relay */
  local_candidate: string;
  /** the relay instance packets to the peer go through (its home relay) */
  relay_instance: string | null;
  reason: string;
  rtt_ms: number | null;
  since: string;
}

export interface PathsStatus {
  nat: NatType;
  candidates: Candidate[];
  home_relay: string | null;
  peers: PeerPathStatus[];
}
