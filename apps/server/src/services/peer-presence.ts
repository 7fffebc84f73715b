import type { PeerEventFrame } from "@warren/protocol";
import { isUuid } from "@warren/protocol";
import { topics } from "../bus/topics.js";
import type { SharedState } from "../state/index.js";
import type { Repositories } from "../storage/repositories/index.js";
import type { PeerView } from "../storage/repositories/peers.js";
import { nowIso } from "./context.js";
import type { createNetworkEvents } from "./networks.js";

interface PresenceDeps {
  repos: Pick<Repositories, "devices" | "peers">;
  state: SharedState;
  events: ReturnType<typeof createNetworkEvents>;
}

const statusFrame = (p: PeerView, status: "online" | "offline"): PeerEventFrame => ({
  type: "peer.status",
  network_id: p.network_id,
  peer_id: p.id,
  status,
  endpoint: p.endpoint,
});

/**
 * A peer's online/offline as its device's hub sockets come and go: the first socket
 * of a registered device takes it online in each of its networks, the last one offline.
 */
export function createPeerPresence({ repos, state, events }: PresenceDeps) {
  /** Device ids whose online/offline is being worked out, in order (per instance). */
  const chains = new Map<string, Promise<void>>();
  /**
   * "user/device" pairs whose first socket here found them registered (skips a lookup
   * at the last close). Keyed by the pair: anyone may claim any device id.
   */
  const registered = new Map<string, boolean>();

  /**
   * Runs a device's transitions one after the other: a socket that closes while its
   * opening is still being looked up must not publish "offline" before "online".
   */
  const serial = (device: string, work: () => Promise<void>): Promise<void> => {
    const prev = chains.get(device) ?? Promise.resolve();
    const next = prev.then(work, work);
    const tail = next.catch(() => {});
    chains.set(device, tail);
    void tail.then(() => {
      if (chains.get(device) === tail) chains.delete(device);
    });
    return next;
  };

  /** Stamps last_seen and tells each network of the device. */
  const announce = async (device: string, status: "online" | "offline") => {
    const at = nowIso();
    await repos.devices.touch(device, at);
    for (const p of await repos.peers.ofDevice(device)) {
      await events.frame(topics.network(p.network_id), statusFrame({ ...p, last_seen: at }, status));
    }
  };

  return {
    /**
     * A hub socket opened (scopes.listen). Only a registered device of that user counts:
     * the device id is the client's word, so another user's id changes nothing.
     */
    connected(userId: string, device: string): Promise<void> {
      if (!isUuid(device)) return Promise.resolve();
      return serial(device, async () => {
        if (!(await state.devices.open(userId, device))) return;
        const known = await repos.devices.owns(userId, device);
        registered.set(`${userId}/${device}`, known);
        if (known) await announce(device, "online");
      });
    },

    /** A dead instance's sockets were reaped and the device has none left. */
    wentOffline(userId: string, device: string): Promise<void> {
      if (!isUuid(device)) return Promise.resolve();
      return serial(device, async () => {
        const key = `${userId}/${device}`;
        registered.delete(key);
        if (await repos.devices.owns(userId, device)) await announce(device, "offline");
      });
    },

    /** A hub socket closed: the device's last one takes it offline in its networks. */
    disconnected(userId: string, device: string): Promise<void> {
      if (!isUuid(device)) return Promise.resolve();
      return serial(device, async () => {
        if (!(await state.devices.close(userId, device))) return;
        const key = `${userId}/${device}`;
        const known = registered.get(key) ?? (await repos.devices.owns(userId, device));
        registered.delete(key);
        if (known) await announce(device, "offline");
      });
    },
  };
}
