import type { Kysely } from "kysely";

// The paths a device's daemon last reported to the other peers of a network: direct or
// relay, and why (JSON). One row per peer; it goes with the peer.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("peer_paths")
    .addColumn("peer_id", "text", (c) => c.primaryKey().notNull().references("peers.id").onDelete("cascade"))
    .addColumn("network_id", "text", (c) => c.notNull())
    .addColumn("report", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("peer_paths_network_index").on("peer_paths").column("network_id").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("peer_paths").execute();
}
