import type { Reservation } from "@warren/protocol";
import type { Kysely } from "kysely";
import { AppError } from "../errors.js";
import type { Dialect } from "../storage/create-database.js";
import { uniqueViolation } from "../storage/errors.js";
import { createPeersRepository, type ReservationRow } from "../storage/repositories/peers.js";
import type { Schema } from "../storage/schema.js";
import { nowIso, type RequestContext } from "./context.js";
import { type Cidr, intToIp, ipToInt, isAssignable, mustParseCidr } from "./ipam.js";
import { createNetworkAccess, type NetworkDeps } from "./networks.js";

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
export function hostAddress(cidr: Cidr, address: string): number {
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

export const taken = (address: string, by: "peer" | "reserved") =>
  new AppError("address_taken", `${address} is ${by === "peer" ? "held by another device" : "reserved"}`);

/**
 * No duplicate addresses ever: every write of a network's addresses runs in a
 * transaction that first takes the network's row lock on PostgreSQL (so allocations in
 * one network queue across server processes; SQLite runs write transactions one at a
 * time), and UNIQUE(network_id, address_num) refuses whatever slips past.
 * Runs `work` so; 404 when the network went meanwhile.
 */
export function addressLock(db: Kysely<Schema>, dialect: Dialect) {
  const locking = dialect === "postgres";
  return {
    locking,
    underLock<T>(networkId: string, work: (tx: Kysely<Schema>) => Promise<T>): Promise<T> {
      return db.transaction().execute(async (tx) => {
        if (locking && !(await createPeersRepository(tx).lockNetwork(networkId))) {
          throw new AppError("not_found", "No such network");
        }
        return work(tx);
      });
    },
  };
}

/**
 * Address reservations: admins keep addresses out of allocation. Peers' addresses
 * (joining, moving) are services/peers.ts's.
 */
export function createAddresses({ db, dialect, repos, audit }: NetworkDeps) {
  const load = createNetworkAccess(repos);
  const { underLock } = addressLock(db, dialect);

  return {
    async reservations(userId: string, networkId: string): Promise<{ reservations: Reservation[] }> {
      await load(networkId, userId, "manage_addresses");
      return { reservations: (await repos.peers.reservations(networkId)).map(toReservation) };
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
          const addresses = createPeersRepository(tx);
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
      if (num === undefined || !(await repos.peers.unreserve(networkId, num))) {
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
