import type { Kysely } from "kysely";

// Rooms of the hub. Live membership is shared state (state/), not
// a table: it changes with every connect. Bans from kicks are rows, so they hold
// across instances and restarts.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("rooms")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("password_hash", "text")
    .addColumn("owner_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("owner_key", "text")
    .addColumn("max_members", "integer", (c) => c.notNull())
    .addColumn("persistent", "integer", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("last_activity_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("rooms_owner_id_index").on("rooms").column("owner_id").execute();
  await db.schema.createIndex("rooms_last_activity_index").on("rooms").column("last_activity_at").execute();

  await db.schema
    .createTable("room_bans")
    .addColumn("room_id", "text", (c) => c.notNull().references("rooms.id").onDelete("cascade"))
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("until", "text", (c) => c.notNull())
    .addColumn("by_id", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("room_bans_pk", ["room_id", "user_id"])
    .execute();

  // The key a session signed in with, so a room created over it names its owner's key.
  await db.schema.alterTable("sessions").addColumn("signin_key_id", "text").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("sessions").dropColumn("signin_key_id").execute();
  await db.schema.dropTable("room_bans").ifExists().execute();
  await db.schema.dropTable("rooms").ifExists().execute();
}
