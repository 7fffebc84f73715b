import type { Kysely, Selectable } from "kysely";
import type { DevicesTable, Schema } from "../schema.js";

export type DeviceRow = Selectable<DevicesTable>;

/** A network the device is a peer of, as the device object lists it. */
export interface DeviceNetworkRow {
  device_id: string;
  network_id: string;
  peer_id: string;
  address: string;
}

/**
 * A user's devices. Every read by id is scoped to the owner: another user's device is
 * simply not found, exactly like a random id (tenant isolation).
 */
export function createDevicesRepository(db: Kysely<Schema>) {
  return {
    async insert(row: DeviceRow): Promise<void> {
      await db.insertInto("devices").values(row).execute();
    },
    async listOf(userId: string): Promise<DeviceRow[]> {
      return db.selectFrom("devices").selectAll().where("user_id", "=", userId).orderBy("id").execute();
    },
    async get(id: string, userId: string): Promise<DeviceRow | undefined> {
      return db
        .selectFrom("devices")
        .selectAll()
        .where("id", "=", id)
        .where("user_id", "=", userId)
        .executeTakeFirst();
    },
    /** The networks of these devices (one row per peer), in address order. */
    async networksOf(deviceIds: readonly string[]): Promise<DeviceNetworkRow[]> {
      if (deviceIds.length === 0) return [];
      return db
        .selectFrom("peers")
        .select(["device_id", "network_id", "id as peer_id", "address"])
        .where("device_id", "in", deviceIds)
        .orderBy("network_id")
        .execute();
    },
    async rename(id: string, userId: string, name: string, at: string): Promise<boolean> {
      const r = await db
        .updateTable("devices")
        .set({ name, updated_at: at })
        .where("id", "=", id)
        .where("user_id", "=", userId)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async setKey(id: string, userId: string, publicKey: string, at: string): Promise<boolean> {
      const r = await db
        .updateTable("devices")
        .set({ public_key: publicKey, updated_at: at })
        .where("id", "=", id)
        .where("user_id", "=", userId)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    /** Deletes the device and its peers (run in a transaction); false when it was not there. */
    async delete(id: string, userId: string): Promise<boolean> {
      await db.deleteFrom("peers").where("device_id", "=", id).where("user_id", "=", userId).execute();
      const r = await db
        .deleteFrom("devices")
        .where("id", "=", id)
        .where("user_id", "=", userId)
        .executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },
    /** Is this a registered device of that user? (a hub socket's device id is the client's word) */
    async owns(userId: string, id: string): Promise<boolean> {
      const row = await db
        .selectFrom("devices")
        .select("id")
        .where("id", "=", id)
        .where("user_id", "=", userId)
        .executeTakeFirst();
      return row !== undefined;
    },
    /** Stamps last_seen on the device and on each of its peers. */
    async touch(id: string, at: string): Promise<void> {
      await db.updateTable("devices").set({ last_seen: at }).where("id", "=", id).execute();
      await db.updateTable("peers").set({ last_seen: at }).where("device_id", "=", id).execute();
    },
  };
}

export type DevicesRepository = ReturnType<typeof createDevicesRepository>;
