import type { Kysely, Selectable, Updateable } from "kysely";
import type { RoomsTable, Schema } from "../schema.js";

export type RoomRow = Selectable<RoomsTable>;

export function createRoomsRepository(db: Kysely<Schema>) {
  return {
    async insert(row: RoomRow): Promise<void> {
      await db.insertInto("rooms").values(row).execute();
    },
    async byId(id: string): Promise<RoomRow | undefined> {
      return db.selectFrom("rooms").selectAll().where("id", "=", id).executeTakeFirst();
    },
    async byIds(ids: string[]): Promise<RoomRow[]> {
      if (ids.length === 0) return [];
      return db.selectFrom("rooms").selectAll().where("id", "in", ids).orderBy("id").execute();
    },
    async update(id: string, changes: Updateable<RoomsTable>): Promise<boolean> {
      const r = await db.updateTable("rooms").set(changes).where("id", "=", id).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    async deleteNonPersistent(): Promise<number> {
      const r = await db.deleteFrom("rooms").where("persistent", "=", 0).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
    async delete(id: string): Promise<boolean> {
      const r = await db.deleteFrom("rooms").where("id", "=", id).executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },
    /** Rooms whose last activity is older than `before`. */
    async idleSince(before: string, limit = 500): Promise<RoomRow[]> {
      return db
        .selectFrom("rooms")
        .selectAll()
        .where("last_activity_at", "<", before)
        .orderBy("last_activity_at")
        .limit(limit)
        .execute();
    },
    async count(): Promise<number> {
      const row = await db
        .selectFrom("rooms")
        .select((eb) => eb.fn.countAll<string | number>().as("n"))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async ban(room: string, user: string, until: string, by: string): Promise<void> {
      await db
        .insertInto("room_bans")
        .values({ room_id: room, user_id: user, until, by_id: by })
        .onConflict((oc) => oc.columns(["room_id", "user_id"]).doUpdateSet({ until, by_id: by }))
        .execute();
    },
    /** The end of a ban still in force, or undefined. */
    async bannedUntil(room: string, user: string, now: string): Promise<string | undefined> {
      const row = await db
        .selectFrom("room_bans")
        .select("until")
        .where("room_id", "=", room)
        .where("user_id", "=", user)
        .where("until", ">", now)
        .executeTakeFirst();
      return row?.until;
    },
  };
}

export type RoomsRepository = ReturnType<typeof createRoomsRepository>;
