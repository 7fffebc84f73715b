import type { Kysely } from "kysely";

// Communities (tenants), their networks (virtual LANs), devices, peers, invites and
// chat. Memberships are split by level (tenant_members, network_members) rather than
// one table with a nullable network_id: NULL never equals NULL in a UNIQUE constraint,
// so UNIQUE(tenant, network, user) on such a table would let a user hold two
// tenant-level memberships.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("tenants")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("name_key", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("visibility", "text", (c) => c.notNull())
    .addColumn("access", "text", (c) => c.notNull())
    .addColumn("password_hash", "text")
    .addColumn("owner_id", "text", (c) => c.notNull().references("users.id"))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("tenants_visibility_name_index")
    .on("tenants")
    .columns(["visibility", "name_key"])
    .execute();

  await db.schema
    .createTable("tenant_members")
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id").onDelete("cascade"))
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("role", "text", (c) => c.notNull())
    .addColumn("joined_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("tenant_members_pk", ["tenant_id", "user_id"])
    .execute();
  await db.schema.createIndex("tenant_members_user_index").on("tenant_members").column("user_id").execute();

  await db.schema
    .createTable("tenant_bans")
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id").onDelete("cascade"))
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("reason", "text")
    .addColumn("until", "text")
    .addColumn("by_id", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("tenant_bans_pk", ["tenant_id", "user_id"])
    .execute();

  await db.schema
    .createTable("networks")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id").onDelete("cascade"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("cidr", "text", (c) => c.notNull())
    .addColumn("visibility", "text", (c) => c.notNull())
    .addColumn("join_policy", "text", (c) => c.notNull())
    .addColumn("required_role", "text", (c) => c.notNull())
    .addColumn("allocation", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("networks_tenant_index").on("networks").column("tenant_id").execute();

  await db.schema
    .createTable("network_members")
    .addColumn("network_id", "text", (c) => c.notNull().references("networks.id").onDelete("cascade"))
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("joined_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("network_members_pk", ["network_id", "user_id"])
    .execute();
  await db.schema.createIndex("network_members_user_index").on("network_members").column("user_id").execute();

  await db.schema
    .createTable("network_bans")
    .addColumn("network_id", "text", (c) => c.notNull().references("networks.id").onDelete("cascade"))
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("reason", "text")
    .addColumn("until", "text")
    .addColumn("by_id", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("network_bans_pk", ["network_id", "user_id"])
    .execute();

  await db.schema
    .createTable("invites")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("code", "text", (c) => c.notNull())
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id").onDelete("cascade"))
    .addColumn("network_id", "text", (c) => c.references("networks.id").onDelete("cascade"))
    .addColumn("role", "text")
    .addColumn("max_uses", "integer")
    .addColumn("uses", "integer", (c) => c.notNull())
    .addColumn("expires_at", "text")
    .addColumn("revoked_at", "text")
    .addColumn("created_by", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addUniqueConstraint("invites_code_unique", ["code"])
    .execute();
  await db.schema.createIndex("invites_tenant_index").on("invites").column("tenant_id").execute();

  await db.schema
    .createTable("devices")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("platform", "text", (c) => c.notNull())
    .addColumn("public_key", "text", (c) => c.notNull())
    .addColumn("last_seen", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addUniqueConstraint("devices_public_key_unique", ["public_key"])
    .execute();
  await db.schema.createIndex("devices_user_index").on("devices").column("user_id").execute();

  // address_num is the IPv4 address as an integer: the allocator orders by it and the
  // unique index is what makes a duplicate address impossible, whatever races.
  await db.schema
    .createTable("peers")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("network_id", "text", (c) => c.notNull().references("networks.id").onDelete("cascade"))
    .addColumn("device_id", "text", (c) => c.notNull().references("devices.id").onDelete("cascade"))
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("address", "text", (c) => c.notNull())
    .addColumn("address_num", "bigint", (c) => c.notNull())
    .addColumn("endpoint", "text")
    .addColumn("last_seen", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addUniqueConstraint("peers_network_device_unique", ["network_id", "device_id"])
    .addUniqueConstraint("peers_network_address_unique", ["network_id", "address_num"])
    .execute();
  await db.schema.createIndex("peers_device_index").on("peers").column("device_id").execute();
  await db.schema.createIndex("peers_user_index").on("peers").column("user_id").execute();

  await db.schema
    .createTable("address_reservations")
    .addColumn("network_id", "text", (c) => c.notNull().references("networks.id").onDelete("cascade"))
    .addColumn("address_num", "bigint", (c) => c.notNull())
    .addColumn("address", "text", (c) => c.notNull())
    .addColumn("note", "text")
    .addColumn("by_id", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("address_reservations_pk", ["network_id", "address_num"])
    .execute();

  // Chat of a community (network_id NULL) or of one of its networks. user_id becomes
  // NULL when the author deletes their account: the message stays, as "deleted user".
  await db.schema
    .createTable("chat_messages")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("tenant_id", "text", (c) => c.notNull().references("tenants.id").onDelete("cascade"))
    .addColumn("network_id", "text", (c) => c.references("networks.id").onDelete("cascade"))
    .addColumn("user_id", "text", (c) => c.references("users.id").onDelete("set null"))
    .addColumn("body", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("edited_at", "text")
    .execute();
  await db.schema
    .createIndex("chat_messages_channel_index")
    .on("chat_messages")
    .columns(["tenant_id", "network_id", "id"])
    .execute();
  await db.schema.createIndex("chat_messages_user_index").on("chat_messages").column("user_id").execute();

  // A community's audit log (GET /v1/tenants/:id/audit) filters on this.
  await db.schema.alterTable("audit_events").addColumn("tenant_id", "text").execute();
  await db.schema
    .createIndex("audit_events_tenant_index")
    .on("audit_events")
    .columns(["tenant_id", "created_at"])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex("audit_events_tenant_index").ifExists().execute();
  await db.schema.alterTable("audit_events").dropColumn("tenant_id").execute();
  for (const table of [
    "chat_messages",
    "address_reservations",
    "peers",
    "devices",
    "invites",
    "network_bans",
    "network_members",
    "networks",
    "tenant_bans",
    "tenant_members",
    "tenants",
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
