import { mayRelay } from "../policy/relay-policy.js";

interface Repos {
  devices: { owns(userId: string, id: string): Promise<boolean> };
  peers: { ofDevice(deviceId: string): Promise<{ network_id: string }[]> };
}

/** How long an answer is reused; any membership change clears every answer at once. */
const ALLOW_TTL_MS = 30_000;
const DENY_TTL_MS = 5_000;
const MAX_ENTRIES = 50_000;

/**
 * Decides whether the packet relay may carry packets from one device to another
 * (policy/relay-policy.ts), and remembers the answer briefly: the relay asks per
 * packet. `forget()` drops every answer: the hub calls it when a peer, member, network
 * or community goes, so a kicked device loses the relay with its next packet.
 */
export function createRelayAccess(repos: Repos) {
  const answers = new Map<string, { ok: boolean; until: number }>();
  const asking = new Map<string, Promise<boolean>>();
  let generation = 0;

  const decide = async (userId: string, from: string, to: string): Promise<boolean> => {
    const [owns, mine, theirs] = await Promise.all([
      repos.devices.owns(userId, from),
      repos.peers.ofDevice(from),
      repos.peers.ofDevice(to),
    ]);
    const nets = new Set(mine.map((p) => p.network_id));
    const shared = theirs.filter((p) => nets.has(p.network_id)).length;
    return mayRelay({ senderOwnsDevice: owns, sharedNetworks: shared });
  };

  return {
    /** true/false when known now, else a promise (the first packet of a pair waits). */
    allowed(userId: string, from: string, to: string): boolean | Promise<boolean> {
      const key = `${userId}/${from}>${to}`;
      const known = answers.get(key);
      if (known && known.until > Date.now()) return known.ok;
      const running = asking.get(key);
      if (running) return running;
      const asked = generation;
      const p = decide(userId, from, to)
        .then((ok) => {
          // An answer that raced a forget() is not kept: it may predate the change.
          if (asked === generation) {
            if (answers.size >= MAX_ENTRIES) answers.clear();
            answers.set(key, { ok, until: Date.now() + (ok ? ALLOW_TTL_MS : DENY_TTL_MS) });
          }
          return ok;
        })
        .finally(() => asking.delete(key));
      asking.set(key, p);
      return p;
    },
    forget(): void {
      generation += 1;
      answers.clear();
    },
  };
}

export type RelayAccess = ReturnType<typeof createRelayAccess>;
