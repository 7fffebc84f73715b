import { type Kysely, sql } from "kysely";

// Hub connections still open get a table of their own; analytics_sessions keeps the
// closed ones. An open row used to go into analytics_sessions, whose index on user_id
// takes it at a random place: one more page written per accept, and re-read, at any
// size of the history (the table keeps ANALYTICS_RETENTION_DAYS of it). This table holds
// only what is open now, with no index on user_id: a user's row is found by a scan of
// it (the personal data export, the cascade when an account goes).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("analytics_open_sessions")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("device", "text", (c) => c.notNull())
    .addColumn("instance", "text", (c) => c.notNull())
    .addColumn("started_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("analytics_open_sessions_instance_index")
    .on("analytics_open_sessions")
    .column("instance")
    .execute();
  await sql`insert into analytics_open_sessions (id, user_id, device, instance, started_at)
    select id, user_id, device, instance, started_at from analytics_sessions where ended_at is null`.execute(
    db,
  );
  await sql`delete from analytics_sessions where ended_at is null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`insert into analytics_sessions (id, user_id, device, instance, started_at, ended_at, duration_ms, recovered)
    select id, user_id, device, instance, started_at, null, null, 0 from analytics_open_sessions`.execute(db);
  await db.schema.dropTable("analytics_open_sessions").execute();
}
