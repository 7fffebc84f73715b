import type { Kysely } from "kysely";

// Written once with Kysely's schema builder so both dialects get the same tables.
// Only portable types: text and integer. Primary keys say NOT NULL because SQLite
// would otherwise accept NULL in a TEXT PRIMARY KEY.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("users")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("username", "text", (c) => c.notNull())
    .addColumn("username_key", "text", (c) => c.notNull())
    .addColumn("email", "text")
    .addColumn("email_key", "text")
    .addColumn("display_name", "text")
    .addColumn("password_hash", "text")
    .addColumn("totp_secret", "text")
    .addColumn("totp_enabled_at", "text")
    .addColumn("totp_last_step", "integer")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addUniqueConstraint("users_username_key_unique", ["username_key"])
    .addUniqueConstraint("users_email_key_unique", ["email_key"])
    .execute();

  await db.schema
    .createTable("user_keys")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("public_key", "text", (c) => c.notNull())
    .addColumn("label", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addUniqueConstraint("user_keys_kind_public_key_unique", ["kind", "public_key"])
    .execute();
  await db.schema.createIndex("user_keys_user_id_index").on("user_keys").column("user_id").execute();

  await db.schema
    .createTable("sessions")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("refreshed_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addColumn("revoked_at", "text")
    .addColumn("revoke_reason", "text")
    .execute();
  await db.schema.createIndex("sessions_user_id_index").on("sessions").column("user_id").execute();

  await db.schema
    .createTable("refresh_tokens")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("session_id", "text", (c) => c.notNull().references("sessions.id").onDelete("cascade"))
    .addColumn("token_hash", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addColumn("rotated_at", "text")
    .addUniqueConstraint("refresh_tokens_token_hash_unique", ["token_hash"])
    .execute();
  await db.schema
    .createIndex("refresh_tokens_session_id_index")
    .on("refresh_tokens")
    .column("session_id")
    .execute();

  await db.schema
    .createTable("recovery_codes")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("code_hash", "text", (c) => c.notNull())
    .addColumn("used_at", "text")
    .addUniqueConstraint("recovery_codes_user_code_unique", ["user_id", "code_hash"])
    .execute();

  await db.schema
    .createTable("auth_challenges")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("challenge", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addColumn("used_at", "text")
    .execute();
  await db.schema
    .createIndex("auth_challenges_expires_at_index")
    .on("auth_challenges")
    .column("expires_at")
    .execute();

  // No foreign key on actor_id: the audit trail outlives the accounts it mentions.
  await db.schema
    .createTable("audit_events")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("actor_id", "text")
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("target", "text")
    .addColumn("ip", "text")
    .addColumn("details", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("audit_events_actor_created_index")
    .on("audit_events")
    .columns(["actor_id", "created_at"])
    .execute();
  await db.schema
    .createIndex("audit_events_action_created_index")
    .on("audit_events")
    .columns(["action", "created_at"])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    "audit_events",
    "auth_challenges",
    "recovery_codes",
    "refresh_tokens",
    "sessions",
    "user_keys",
    "users",
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
