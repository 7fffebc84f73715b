import { version1Type } from "@warren/protocol";
import type { BusEvent } from "../bus/bus.js";

/**
 * Events after which a cached "these two may contact each other" may no longer hold:
 * someone left or lost a room, community or network, or one was deleted. Version-1
 * names too: instances not yet upgraded publish them.
 */
const REVOKING = new Set(
  [
    "room.peer_left",
    "room.deleted",
    "kicked",
    "member.removed",
    "member.updated",
    "peer.removed",
    "network.deleted",
    "tenant.deleted",
  ].flatMap((type) => [type, version1Type(type)]),
);

/**
 * The relay rule's answer for a pair of users, kept a few seconds when it cost a round
 * trip (Redis for rooms, the database for communities and networks): a WebRTC or
 * WireGuard exchange sends dozens of frames between the same two users in a burst.
 * Only "yes" is kept, and every revoking event this instance delivers empties the cache:
 * the sender is local, so it is on every room, community and network topic it shares
 * with the recipient and hears any departure from them.
 */
export function createContactCache(ttlMs = 5000, maxPairs = 50_000) {
  // from → to → until (performance.now()): two lookups on the strings the frame already
  // has, instead of building and hashing a pair key per frame.
  let pairs = new Map<string, Map<string, number>>();
  let size = 0;
  return {
    allowed(from: string, to: string): boolean {
      if (size === 0) return false;
      const peers = pairs.get(from);
      const until = peers?.get(to);
      if (until === undefined) return false;
      if (performance.now() < until) return true;
      (peers as Map<string, number>).delete(to);
      size -= 1;
      if (peers?.size === 0) pairs.delete(from);
      return false;
    },
    remember(from: string, to: string): void {
      if (size >= maxPairs) {
        pairs = new Map();
        size = 0;
      }
      let peers = pairs.get(from);
      if (!peers) {
        peers = new Map();
        pairs.set(from, peers);
      }
      if (!peers.has(to)) size += 1;
      peers.set(to, performance.now() + ttlMs);
    },
    /** Called for every bus event this instance delivers. */
    observe(event: BusEvent): void {
      if (size === 0) return;
      const revokes =
        event.kind === "frame"
          ? event.type !== undefined && REVOKING.has(event.type)
          : event.kind === "room.unsubscribe" || event.kind === "topics.remove";
      if (revokes) {
        pairs = new Map();
        size = 0;
      }
    },
  };
}

export type ContactCache = ReturnType<typeof createContactCache>;
