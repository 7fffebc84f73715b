import { type Kysely, type Selectable, sql } from "kysely";
import type { AddressReservationsTable, PeersTable, Schema } from "../schema.js";

export type PeerRow = Selectable<PeersTable>;
export type ReservationRow = Selectable<AddressReservationsTable>;

/** A peer with what the peer object shows of its device. */
export interface PeerView {
  id: string;
  network_id: string;
  device_id: string;
  user_id: string;
  name: string;
  address: string;
  public_key: string;
  endpoint: string | null;
  last_seen: string | null;
}

/** A peer with the network it is in: what authorization and configs need. */
export interface PeerInNetwork extends PeerView {
  tenant_id: string;
  network_name: string;
  cidr: string;
}

/**
 * Peers (devices in networks) and the address space of a network: who holds which
 * address, reservations, and the row locks that serialise allocation. Run these on a
 * transaction when they must see and write one consistent state.
 */
export function createPeersRepository(db: Kysely<Schema>) {
  /** Every read of peers selects this one view. */
  const view = () =>
    db
      .selectFrom("peers as p")
      .innerJoin("devices as d", "d.id", "p.device_id")
      .innerJoin("networks as n", "n.id", "p.network_id")
      .select([
        "p.id",
        "p.network_id",
        "p.device_id",
        "p.user_id",
        "d.name",
        "p.address",
        "d.public_key",
        "p.endpoint",
        "p.last_seen",
        "n.tenant_id",
        "n.name as network_name",
        "n.cidr",
      ]);

  return {
    /** Every peer of the network, in address order. */
    async ofNetwork(networkId: string): Promise<PeerInNetwork[]> {
      return view().where("p.network_id", "=", networkId).orderBy("p.address_num").execute();
    },
    async get(peerId: string): Promise<PeerInNetwork | undefined> {
      return view().where("p.id", "=", peerId).executeTakeFirst();
    },
    /** The peer, only when `userId` owns its device (others: not found). */
    async getOwned(peerId: string, userId: string): Promise<PeerInNetwork | undefined> {
      return view().where("p.id", "=", peerId).where("p.user_id", "=", userId).executeTakeFirst();
    },
    /** Every peer of the device, across networks. */
    async ofDevice(deviceId: string): Promise<PeerInNetwork[]> {
      return view().where("p.device_id", "=", deviceId).orderBy("p.network_id").execute();
    },
    /** The user's peers in the network (to tell others they are gone). */
    async ofUser(networkId: string, userId: string): Promise<PeerInNetwork[]> {
      return view().where("p.network_id", "=", networkId).where("p.user_id", "=", userId).execute();
    },
    async has(networkId: string, deviceId: string): Promise<boolean> {
      const row = await db
        .selectFrom("peers")
        .select("id")
        .where("network_id", "=", networkId)
        .where("device_id", "=", deviceId)
        .executeTakeFirst();
      return row !== undefined;
    },
    async insert(row: PeerRow): Promise<void> {
      await db.insertInto("peers").values(row).execute();
    },
    async setAddress(peerId: string, address: string, num: number, at: string): Promise<void> {
      await db
        .updateTable("peers")
        .set({ address, address_num: num, updated_at: at })
        .where("id", "=", peerId)
        .execute();
    },
    async setEndpoint(peerId: string, endpoint: string | null, at: string): Promise<boolean> {
      const r = await db
        .updateTable("peers")
        .set({ endpoint, updated_at: at })
        .where("id", "=", peerId)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async delete(peerId: string): Promise<boolean> {
      const r = await db.deleteFrom("peers").where("id", "=", peerId).executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },
    async deleteOfUser(networkId: string, userId: string): Promise<void> {
      await db
        .deleteFrom("peers")
        .where("network_id", "=", networkId)
        .where("user_id", "=", userId)
        .execute();
    },

    /**
     * PostgreSQL: takes the network's row lock until the transaction ends, so
     * allocations in one network queue up across every server process. (SQLite runs
     * one write transaction at a time anyway and has no FOR UPDATE.)
     */
    async lockNetwork(networkId: string): Promise<boolean> {
      const row = await sql<{
        id: string;
      }>`select id from networks where id = ${networkId} for update`.execute(db);
      return row.rows.length === 1;
    },
    /** PostgreSQL: the device's row lock, so one device's joins of two networks check overlap in turn. */
    async lockDevice(deviceId: string): Promise<void> {
      await sql`select id from devices where id = ${deviceId} for update`.execute(db);
    },
    /** The device's owner, when the device exists. */
    async deviceOwner(deviceId: string): Promise<string | undefined> {
      const row = await db
        .selectFrom("devices")
        .select("user_id")
        .where("id", "=", deviceId)
        .executeTakeFirst();
      return row?.user_id;
    },
    /** The networks (id, name, cidr) the device is a peer of. */
    async networksOfDevice(deviceId: string): Promise<{ id: string; name: string; cidr: string }[]> {
      return db
        .selectFrom("peers as p")
        .innerJoin("networks as n", "n.id", "p.network_id")
        .select(["n.id", "n.name", "n.cidr"])
        .where("p.device_id", "=", deviceId)
        .execute();
    },
    /** Every address held or reserved in the network, as integers. */
    async takenNums(networkId: string): Promise<number[]> {
      const [peers, reserved] = await Promise.all([
        db.selectFrom("peers").select("address_num").where("network_id", "=", networkId).execute(),
        db
          .selectFrom("address_reservations")
          .select("address_num")
          .where("network_id", "=", networkId)
          .execute(),
      ]);
      return [...peers, ...reserved].map((r) => Number(r.address_num));
    },
    /** Who holds or reserves an address: "peer" (with its id), "reserved", or undefined. */
    async holder(
      networkId: string,
      num: number,
    ): Promise<{ kind: "peer"; id: string } | { kind: "reserved" } | undefined> {
      const peer = await db
        .selectFrom("peers")
        .select("id")
        .where("network_id", "=", networkId)
        .where("address_num", "=", num)
        .executeTakeFirst();
      if (peer) return { kind: "peer", id: peer.id };
      const res = await db
        .selectFrom("address_reservations")
        .select("address")
        .where("network_id", "=", networkId)
        .where("address_num", "=", num)
        .executeTakeFirst();
      return res ? { kind: "reserved" } : undefined;
    },
    async reservations(networkId: string): Promise<ReservationRow[]> {
      return db
        .selectFrom("address_reservations")
        .selectAll()
        .where("network_id", "=", networkId)
        .orderBy("address_num")
        .execute();
    },
    async reserve(row: ReservationRow): Promise<void> {
      await db.insertInto("address_reservations").values(row).execute();
    },
    async unreserve(networkId: string, num: number): Promise<boolean> {
      const r = await db
        .deleteFrom("address_reservations")
        .where("network_id", "=", networkId)
        .where("address_num", "=", num)
        .executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },
  };
}

export type PeersRepository = ReturnType<typeof createPeersRepository>;
