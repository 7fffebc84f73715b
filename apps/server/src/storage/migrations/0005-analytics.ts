import { type Kysely, sql } from "kysely";

// Server analytics: hub connections ("sessions": who, which
// device, when, how long; never an address), users active per UTC day, and client
// frames per day and type. The first account created on an empty server is a server
// admin (users.is_admin); a partial unique index allows one such row, so two first
// registrations racing cannot both get it.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable("users")
    .addColumn("is_admin", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createIndex("users_first_admin_unique")
    .unique()
    .on("users")
    .column("is_admin")
    .where(sql.ref("is_admin"), "=", 1)
    .execute();

  await db.schema
    .createTable("analytics_sessions")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("device", "text", (c) => c.notNull())
    .addColumn("instance", "text", (c) => c.notNull())
    .addColumn("started_at", "text", (c) => c.notNull())
    .addColumn("ended_at", "text")
    .addColumn("duration_ms", "bigint")
    .addColumn("recovered", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createIndex("analytics_sessions_started_index")
    .on("analytics_sessions")
    .column("started_at")
    .execute();
  await db.schema
    .createIndex("analytics_sessions_ended_index")
    .on("analytics_sessions")
    .column("ended_at")
    .execute();
  await db.schema
    .createIndex("analytics_sessions_instance_index")
    .on("analytics_sessions")
    .column("instance")
    .execute();
  await db.schema
    .createIndex("analytics_sessions_user_index")
    .on("analytics_sessions")
    .column("user_id")
    .execute();

  await db.schema
    .createTable("analytics_active_users")
    .addColumn("day", "text", (c) => c.notNull())
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addPrimaryKeyConstraint("analytics_active_users_pk", ["day", "user_id"])
    .execute();
  await db.schema
    .createIndex("analytics_active_users_user_index")
    .on("analytics_active_users")
    .column("user_id")
    .execute();

  await db.schema
    .createTable("analytics_message_counts")
    .addColumn("day", "text", (c) => c.notNull())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("count", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("analytics_message_counts_pk", ["day", "type"])
    .execute();

  await db.schema
    .createTable("analytics_instances")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("started_at", "text", (c) => c.notNull())
    .addColumn("last_seen_at", "text", (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    "analytics_instances",
    "analytics_message_counts",
    "analytics_active_users",
    "analytics_sessions",
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
  await db.schema.dropIndex("users_first_admin_unique").ifExists().execute();
  await db.schema.alterTable("users").dropColumn("is_admin").execute();
}
