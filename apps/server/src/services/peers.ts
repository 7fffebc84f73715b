import type { NetworkPeer, PeerEventFrame, WireGuardConfig } from "@warren/protocol";
import { isUuid } from "@warren/protocol";
import type { Bus } from "../bus/bus.js";
import { topics } from "../bus/topics.js";
import { AppError } from "../errors.js";
import { type CommunityRole, mayRemovePeer, maySeePeers } from "../policy/policy.js";
import type { SharedState } from "../state/index.js";
import type { PeerView } from "../storage/repositories/addresses.js";
import type { Repositories } from "../storage/repositories/index.js";
import type { PeerInNetwork } from "../storage/repositories/peers.js";
import { toPeer } from "./addresses.js";
import type { Audit } from "./audit.js";
import { nowIso, type RequestContext } from "./context.js";
import { createNetworkAccess, createNetworkEvents } from "./networks.js";
import { buildConfig, parseEndpoint } from "./wg-config.js";

export interface PeerDeps {
  repos: Repositories;
  bus: Bus;
  audit: Audit;
  state: SharedState;
}

/** Peer objects with `online` read from the hub's device sockets (state.devices). */
export function createPeerViews(state: SharedState) {
  return {
    async withOnline(views: PeerView[]): Promise<NetworkPeer[]> {
      const online = await state.devices.online(views.map((v) => ({ user: v.user_id, device: v.device_id })));
      return views.map((v) => toPeer(v, online.has(v.device_id)));
    },
  };
}

const peerNotFound = () => new AppError("not_found", "No such peer");

/**
 * Peers (devices in networks): listing with online status, removal, the endpoint a
 * device reports, its WireGuard config, and online/offline as its hub sockets come and
 * go. Adding a peer and moving its address is address management's
 * (services/addresses.ts).
 */
export function createPeers({ repos, bus, audit, state }: PeerDeps) {
  const loadNetwork = createNetworkAccess(repos);
  const events = createNetworkEvents(bus);
  const views = createPeerViews(state);

  /**
   * A peer the caller may see: their own device's, or one of a network they may list
   * the peers of. Anything else is the same 404 as a random id.
   */
  const visiblePeer = async (userId: string, peerId: string) => {
    const peer = await repos.peers.get(peerId);
    if (!peer) throw peerNotFound();
    if (peer.user_id === userId) {
      const role: CommunityRole | "none" =
        (await repos.memberships.tenantRole(peer.tenant_id, userId)) ?? "none";
      return { peer, role, own: true };
    }
    const network = await loadNetwork(peer.network_id, userId).catch((err: unknown) => {
      throw err instanceof AppError && err.code === "not_found" ? peerNotFound() : err;
    });
    if (!maySeePeers(network.role, network.my_status)) throw peerNotFound();
    return { peer, role: network.role, own: false };
  };

  const statusFrame = (p: PeerView, status: "online" | "offline"): PeerEventFrame => ({
    type: "peer.status",
    network_id: p.network_id,
    peer_id: p.id,
    status,
    endpoint: p.endpoint,
  });

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
    views,

    /** GET /networks/:id/peers: for the network's active members and community admins. */
    async list(userId: string, networkId: string): Promise<{ peers: NetworkPeer[] }> {
      const network = await loadNetwork(networkId, userId);
      if (!maySeePeers(network.role, network.my_status)) throw new AppError("not_found", "No such network");
      return { peers: await views.withOnline(await repos.peers.ofNetwork(networkId)) };
    },

    /** DELETE /peers/:id: the device's owner, or an admin of the community. */
    async remove(userId: string, peerId: string, ctx?: RequestContext): Promise<void> {
      const { peer, role, own } = await visiblePeer(userId, peerId);
      if (!mayRemovePeer(role, own)) {
        throw new AppError("forbidden", "Only the device's owner and the community's admins remove a peer");
      }
      if (!(await repos.peers.delete(peerId))) throw peerNotFound();
      await events.frame(topics.network(peer.network_id), {
        type: "peer.removed",
        network_id: peer.network_id,
        peer_id: peer.id,
        device_id: peer.device_id,
        user_id: peer.user_id,
      });
      await audit.record(
        "peer.remove",
        {
          actorId: userId,
          target: peer.id,
          tenantId: peer.tenant_id,
          details: {
            network_id: peer.network_id,
            device_id: peer.device_id,
            user_id: peer.user_id,
            address: peer.address,
          },
        },
        ctx,
      );
    },

    /** PATCH /peers/:id/endpoint: the device reports where it can be reached; members hear peer.updated. */
    async setEndpoint(
      userId: string,
      peerId: string,
      endpoint: string,
      ctx?: RequestContext,
    ): Promise<NetworkPeer> {
      const value = parseEndpoint(endpoint);
      const before = await repos.peers.getOwned(peerId, userId);
      if (!before) throw peerNotFound();
      if (!(await repos.peers.setEndpoint(peerId, value, nowIso()))) throw peerNotFound();
      const after = await repos.peers.get(peerId);
      if (!after) throw peerNotFound();
      const [peer] = await views.withOnline([after]);
      if (!peer) throw peerNotFound();
      await events.frame(topics.network(after.network_id), {
        type: "peer.updated",
        network_id: after.network_id,
        peer,
      });
      await audit.record(
        "peer.endpoint",
        {
          actorId: userId,
          target: peerId,
          tenantId: after.tenant_id,
          details: {
            network_id: after.network_id,
            device_id: after.device_id,
            from: before.endpoint,
            to: value,
          },
        },
        ctx,
      );
      return peer;
    },

    /** GET /peers/:id/config: only for the device's owner; everyone else gets 404. */
    async config(userId: string, peerId: string): Promise<WireGuardConfig> {
      const self = await repos.peers.getOwned(peerId, userId);
      if (!self) throw peerNotFound();
      const all: PeerInNetwork[] = await repos.peers.ofNetwork(self.network_id);
      return buildConfig({
        device: { id: self.device_id, name: self.name },
        network: { id: self.network_id, name: self.network_name, cidr: self.cidr },
        address: self.address,
        peers: all.filter((p) => p.id !== self.id),
      });
    },

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

export type Peers = ReturnType<typeof createPeers>;
