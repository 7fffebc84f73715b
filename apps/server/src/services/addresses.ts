import type { NetworkPeer, Reservation } from "@warren/protocol";
import { uuidv7 } from "@warren/protocol";
import { topics } from "../bus/topics.js";
import { AppError } from "../errors.js";
import { mayInCommunity } from "../policy/policy.js";
import { uniqueViolation } from "../storage/errors.js";
import {
  createAddressesRepository,
  type PeerView,
  type ReservationRow,
} from "../storage/repositories/addresses.js";
import { createNetworksRepository } from "../storage/repositories/networks.js";
import { nowIso, type RequestContext } from "./context.js";
import {
  type Cidr,
  intToIp,
  ipToInt,
  isAssignable,
  mustParseCidr,
  overlaps,
  parseCidr,
  pickFree,
} from "./ipam.js";
import { createNetworkAccess, createNetworkEvents, type NetworkDeps } from "./networks.js";

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

function toReservation(row: ReservationRow): Reservation {
  return {
    network_id: row.network_id,
    address: row.address,
    note: row.note,
    by_id: row.by_id,
    created_at: row.created_at,
  };
}

/** An address the caller chose: it must be a host a peer may hold (not network, first host or broadcast). */
function hostAddress(cidr: Cidr, address: string): number {
  const num = ipToInt(address);
  if (num === undefined || !isAssignable(cidr, num)) {
    throw new AppError(
      "invalid_request",
      `${address} is not an assignable host of ${cidr.text} (from ${intToIp(cidr.base + 2)} to the one before broadcast)`,
      { details: { field: "address" } },
    );
  }
  return num;
}

const taken = (address: string, by: "peer" | "reserved") =>
  new AppError("address_taken", `${address} is ${by === "peer" ? "held by another device" : "reserved"}`);

/**
 * Address management: a device joining a network gets an address, admins
 * pin, move and reserve addresses. No duplicates ever: every write runs in a
 * transaction that first takes the network's row lock on PostgreSQL (so allocations
 * in one network queue across server processes; SQLite runs write transactions one at
 * a time), and UNIQUE(network_id, address_num) refuses whatever slips past; such a
 * loss starts the allocation over.
 */
export function createAddresses({ db, dialect, repos, bus, audit, state }: NetworkDeps) {
  const load = createNetworkAccess(repos);
  const events = createNetworkEvents(bus);
  const locking = dialect === "postgres";

  /** Runs `work` in a transaction holding the network's lock; 404 when the network went meanwhile. */
  const underLock = <T>(networkId: string, work: (tx: typeof db) => Promise<T>) =>
    db.transaction().execute(async (tx) => {
      if (locking && !(await createAddressesRepository(tx).lockNetwork(networkId))) {
        throw new AppError("not_found", "No such network");
      }
      return work(tx);
    });

  const peerNotFound = () => new AppError("not_found", "No such peer");
  const withStatus = async (view: PeerView) =>
    toPeer(
      view,
      (await state.devices.online([{ user: view.user_id, device: view.device_id }])).has(view.device_id),
    );

  return {
    /** POST /networks/:id/peers: the caller's device joins the network with an allocated (or pinned) address. */
    async addPeer(
      userId: string,
      networkId: string,
      body: { device_id: string; address?: string | undefined },
      ctx?: RequestContext,
    ): Promise<NetworkPeer> {
      const view = await load(networkId, userId);
      if (body.address !== undefined && !mayInCommunity(view.role, "manage_addresses")) {
        throw new AppError(
          "forbidden",
          "Only admins and the owner choose addresses; leave address out to get one",
        );
      }
      if ((await repos.addresses.deviceOwner(body.device_id)) !== userId) {
        throw new AppError("not_found", "No such device");
      }
      const cidr = mustParseCidr(view.cidr);
      const pinned = body.address === undefined ? undefined : hostAddress(cidr, body.address);
      const now = nowIso();
      const id = uuidv7();
      for (let attempt = 1; ; attempt++) {
        try {
          await underLock(networkId, async (tx) => {
            const addresses = createAddressesRepository(tx);
            if (locking) await addresses.lockDevice(body.device_id);
            const status = await createNetworksRepository(tx).status(networkId, userId);
            if (status !== "active") {
              throw new AppError(
                "forbidden",
                status === "pending"
                  ? "Your join request is still waiting for approval"
                  : "Join the network first",
              );
            }
            if (await addresses.hasPeer(networkId, body.device_id)) {
              throw new AppError("already_member", "This device is already in this network");
            }
            // One device, several networks: their ranges must not overlap on it, or its routes
            // would be ambiguous.
            const clash = (await addresses.networksOfDevice(body.device_id)).find((n) => {
              const r = parseCidr(n.cidr);
              return r.ok && overlaps(cidr, r.cidr);
            });
            if (clash) {
              throw new AppError(
                "cidr_conflict",
                `${cidr.text} overlaps ${clash.cidr} (network "${clash.name}") that this device is in`,
                {
                  details: { network_id: clash.id, cidr: clash.cidr },
                },
              );
            }
            const used = await addresses.takenNums(networkId);
            let num: number;
            if (pinned !== undefined) {
              if (used.includes(pinned)) {
                const holder = await addresses.holder(networkId, pinned);
                throw taken(intToIp(pinned), holder?.kind === "reserved" ? "reserved" : "peer");
              }
              num = pinned;
            } else {
              const free = pickFree(cidr, used, view.allocation === "random" ? "random" : "lowest");
              if (free === undefined)
                throw new AppError("network_full", `${cidr.text} has no free address left`);
              num = free;
            }
            await addresses.insertPeer({
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
      const peer = await withStatus((await repos.addresses.peer(id)) as PeerView);
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
      const before = await repos.addresses.peer(peerId);
      if (!before) throw peerNotFound();
      const view = await load(before.network_id, userId).catch((err: unknown) => {
        throw err instanceof AppError && err.code === "not_found" ? peerNotFound() : err;
      });
      if (!mayInCommunity(view.role, "manage_addresses")) {
        throw new AppError("forbidden", "Only admins and the owner change addresses");
      }
      const num = hostAddress(mustParseCidr(view.cidr), address);
      if (address === before.address) return withStatus(before);
      try {
        await underLock(view.id, async (tx) => {
          const addresses = createAddressesRepository(tx);
          const holder = await addresses.holder(view.id, num);
          if (holder) throw taken(address, holder.kind);
          await addresses.setAddress(peerId, address, num, nowIso());
        });
      } catch (err) {
        if (uniqueViolation(err) !== undefined)
          throw new AppError("address_taken", undefined, { cause: err });
        throw err;
      }
      const after = await repos.addresses.peer(peerId);
      if (!after) throw peerNotFound();
      const peer = await withStatus(after);
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

    async reservations(userId: string, networkId: string): Promise<{ reservations: Reservation[] }> {
      await load(networkId, userId, "manage_addresses");
      return { reservations: (await repos.addresses.reservations(networkId)).map(toReservation) };
    },

    async reserve(
      userId: string,
      networkId: string,
      body: { address: string; note?: string | undefined },
      ctx?: RequestContext,
    ): Promise<Reservation> {
      const view = await load(networkId, userId, "manage_addresses");
      const num = hostAddress(mustParseCidr(view.cidr), body.address);
      const row: ReservationRow = {
        network_id: networkId,
        address_num: num,
        address: intToIp(num),
        note: body.note ?? null,
        by_id: userId,
        created_at: nowIso(),
      };
      try {
        await underLock(networkId, async (tx) => {
          const addresses = createAddressesRepository(tx);
          const holder = await addresses.holder(networkId, num);
          if (holder) throw taken(row.address, holder.kind);
          await addresses.reserve(row);
        });
      } catch (err) {
        if (uniqueViolation(err) !== undefined) throw taken(row.address, "reserved");
        throw err;
      }
      await audit.record(
        "address.reserve",
        {
          actorId: userId,
          target: networkId,
          tenantId: view.tenant_id,
          details: { network_id: networkId, address: row.address, note: row.note },
        },
        ctx,
      );
      return toReservation(row);
    },

    async unreserve(userId: string, networkId: string, address: string, ctx?: RequestContext): Promise<void> {
      const view = await load(networkId, userId, "manage_addresses");
      const num = ipToInt(address);
      if (num === undefined || !(await repos.addresses.unreserve(networkId, num))) {
        throw new AppError("not_found", `${address} is not reserved in this network`);
      }
      await audit.record(
        "address.unreserve",
        {
          actorId: userId,
          target: networkId,
          tenantId: view.tenant_id,
          details: { network_id: networkId, address },
        },
        ctx,
      );
    },
  };
}

export type Addresses = ReturnType<typeof createAddresses>;
