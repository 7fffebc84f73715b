import type { Kysely } from "kysely";
import type { Schema } from "../schema.js";
import type { PeerView } from "./addresses.js";

/** A peer with the network it is in: what authorization and configs need. */
export interface PeerInNetwork extends PeerView {
  tenant_id: string;
  network_name: string;
  cidr: string;
}

/**
 * Reads of peers (devices in networks), endpoint and removal. Peers are created and
 * moved by address management (repositories/addresses.ts), which owns allocation.
 */
export function createPeersRepository(db: Kysely<Schema>) {
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
  };
}

export type PeersRepository = ReturnType<typeof createPeersRepository>;
