import type { NetworkPeer, WireGuardConfig } from "@warren/protocol";
import { uuidv7 } from "@warren/protocol";
import { topics } from "../bus/topics.js";
import { AppError } from "../errors.js";
import { type CommunityRole, mayInCommunity, mayRemovePeer, maySeePeers } from "../policy/policy.js";
import type { SharedState } from "../state/index.js";
import { uniqueViolation } from "../storage/errors.js";
import { createNetworksRepository } from "../storage/repositories/networks.js";
import { createPeersRepository, type PeerInNetwork, type PeerView } from "../storage/repositories/peers.js";
import { addressLock, hostAddress, taken } from "./addresses.js";
import { nowIso, type RequestContext } from "./context.js";
import { intToIp, mustParseCidr, overlaps, parseCidr, pickFree } from "./ipam.js";
import { createNetworkAccess, createNetworkEvents, type NetworkDeps } from "./networks.js";
import { createPeerPresence } from "./peer-presence.js";
import { buildConfig, parseEndpoint } from "./wg-config.js";

/** How many times an allocation starts over after losing a race to the unique index. */
const ALLOCATION_ATTEMPTS = 5;

export function toPeer(view: PeerView, online = false): NetworkPeer {
  return {
    id: view.id,
    network_id: view.network_id,
    device_id: view.device_id,
    user_id: view.user_id,
    name: view.name,
    address: view.address,
    public_key: view.public_key,
    endpoint: view.endpoint,
    online,
    last_seen: view.last_seen,
  };
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
 * Peers (devices in networks): a device joining a network with an allocated (or
 * pinned) address, listing with online status, moving an address, removal, the
 * endpoint a device reports, its WireGuard config, and online/offline as its hub
 * sockets come and go (peer-presence.ts).
 */
export function createPeers({ db, dialect, repos, bus, audit, state }: NetworkDeps) {
  const loadNetwork = createNetworkAccess(repos);
  const events = createNetworkEvents(bus);
  const views = createPeerViews(state);
  const { locking, underLock } = addressLock(db, dialect);

  const withOnline = async (view: PeerView): Promise<NetworkPeer> => {
    const [peer] = await views.withOnline([view]);
    if (!peer) throw peerNotFound();
    return peer;
  };

  /** The peer's network for the caller; a network they may not see is the peer's 404. */
  const networkOf = (peer: PeerView, userId: string) =>
    loadNetwork(peer.network_id, userId).catch((err: unknown) => {
      throw err instanceof AppError && err.code === "not_found" ? peerNotFound() : err;
    });

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
    const network = await networkOf(peer, userId);
    if (!maySeePeers(network.role, network.my_status)) throw peerNotFound();
    return { peer, role: network.role, own: false };
  };

  return {
    views,
    ...createPeerPresence({ repos, state, events }),

    /** GET /networks/:id/peers: for the network's active members and community admins. */
    async list(userId: string, networkId: string): Promise<{ peers: NetworkPeer[] }> {
      const network = await loadNetwork(networkId, userId);
      if (!maySeePeers(network.role, network.my_status)) throw new AppError("not_found", "No such network");
      return { peers: await views.withOnline(await repos.peers.ofNetwork(networkId)) };
    },

    /** POST /networks/:id/peers: the caller's device joins the network with an allocated (or pinned) address. */
    async add(
      userId: string,
      networkId: string,
      body: { device_id: string; address?: string | undefined },
      ctx?: RequestContext,
    ): Promise<NetworkPeer> {
      const view = await loadNetwork(networkId, userId);
      if (body.address !== undefined && !mayInCommunity(view.role, "manage_addresses")) {
        throw new AppError(
          "forbidden",
          "Only admins and the owner choose addresses; leave address out to get one",
        );
      }
      if ((await repos.peers.deviceOwner(body.device_id)) !== userId) {
        throw new AppError("not_found", "No such device");
      }
      const cidr = mustParseCidr(view.cidr);
      const pinned = body.address === undefined ? undefined : hostAddress(cidr, body.address);
      const now = nowIso();
      const id = uuidv7();
      for (let attempt = 1; ; attempt++) {
        try {
          await underLock(networkId, async (tx) => {
            const peers = createPeersRepository(tx);
            if (locking) await peers.lockDevice(body.device_id);
            const status = await createNetworksRepository(tx).status(networkId, userId);
            if (status !== "active") {
              throw new AppError(
                "forbidden",
                status === "pending"
                  ? "Your join request is still waiting for approval"
                  : "Join the network first",
              );
            }
            if (await peers.has(networkId, body.device_id)) {
              throw new AppError("already_member", "This device is already in this network");
            }
            // One device, several networks: their ranges must not overlap on it, or its routes
            // would be ambiguous.
            const clash = (await peers.networksOfDevice(body.device_id)).find((n) => {
              const r = parseCidr(n.cidr);
              return r.ok && overlaps(cidr, r.cidr);
            });
            if (clash) {
              throw new AppError(
                "cidr_conflict",
                `${cidr.text} overlaps ${clash.cidr} (network "${clash.name}") that this device is in`,
                { details: { network_id: clash.id, cidr: clash.cidr } },
              );
            }
            const used = await peers.takenNums(networkId);
            let num: number;
            if (pinned !== undefined) {
              if (used.includes(pinned)) {
                const holder = await peers.holder(networkId, pinned);
                throw taken(intToIp(pinned), holder?.kind === "reserved" ? "reserved" : "peer");
              }
              num = pinned;
            } else {
              const free = pickFree(cidr, used, view.allocation === "random" ? "random" : "lowest");
              if (free === undefined)
                throw new AppError("network_full", `${cidr.text} has no free address left`);
              num = free;
            }
            await peers.insert({
              id,
              network_id: networkId,
              device_id: body.device_id,
              user_id: userId,
              address: intToIp(num),
              address_num: num,
              endpoint: null,
              last_seen: null,
              created_at: now,
              updated_at: now,
            });
          });
          break;
        } catch (err) {
          const hit = uniqueViolation(err);
          if (hit === undefined) throw err;
          if (hit.includes("device"))
            throw new AppError("already_member", "This device is already in this network", { cause: err });
          if (pinned !== undefined) throw new AppError("address_taken", undefined, { cause: err });
          if (attempt >= ALLOCATION_ATTEMPTS) throw err;
        }
      }
      const added = await repos.peers.get(id);
      if (!added) throw peerNotFound();
      const peer = await withOnline(added);
      await events.frame(topics.network(networkId), { type: "peer.added", network_id: networkId, peer });
      await audit.record(
        "peer.add",
        {
          actorId: userId,
          target: id,
          tenantId: view.tenant_id,
          details: {
            network_id: networkId,
            device_id: body.device_id,
            address: peer.address,
            pinned: pinned !== undefined,
          },
        },
        ctx,
      );
      return peer;
    },

    /** PATCH /peers/:id/address: an admin moves a device; every member's device hears it at once. */
    async changeAddress(
      userId: string,
      peerId: string,
      address: string,
      ctx?: RequestContext,
    ): Promise<NetworkPeer> {
      const before = await repos.peers.get(peerId);
      if (!before) throw peerNotFound();
      const view = await networkOf(before, userId);
      if (!mayInCommunity(view.role, "manage_addresses")) {
        throw new AppError("forbidden", "Only admins and the owner change addresses");
      }
      const num = hostAddress(mustParseCidr(view.cidr), address);
      if (address === before.address) return withOnline(before);
      try {
        await underLock(view.id, async (tx) => {
          const peers = createPeersRepository(tx);
          const holder = await peers.holder(view.id, num);
          if (holder) throw taken(address, holder.kind);
          await peers.setAddress(peerId, address, num, nowIso());
        });
      } catch (err) {
        if (uniqueViolation(err) !== undefined)
          throw new AppError("address_taken", undefined, { cause: err });
        throw err;
      }
      const after = await repos.peers.get(peerId);
      if (!after) throw peerNotFound();
      const peer = await withOnline(after);
      await events.frame(topics.network(view.id), { type: "peer.updated", network_id: view.id, peer });
      await audit.record(
        "address.change",
        {
          actorId: userId,
          target: peerId,
          tenantId: view.tenant_id,
          details: { network_id: view.id, from: before.address, to: address },
        },
        ctx,
      );
      return peer;
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
      const peer = await withOnline(after);
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
  };
}

export type Peers = ReturnType<typeof createPeers>;
