import type { Kysely } from "kysely";

// End-to-end encrypted direct messages. A message row holds what the server
// checks (who, when, the signature over the copies' hashes); each sealed copy is a row
// of its own, one per device key, with that device's delivery status. Sender and
// recipient have no foreign key, like audit actors: when one deletes their account
// their copies go, and the other party keeps theirs of the conversation, naming a
// former id that names nobody. A copy names its key by id without a foreign key, so a
// key deleted while copies wait leaves them for the cleanup loop to expire.
export async function up(db: Kysely<unknown>): Promise<void> {
  // A device holds at most one key of each kind; keys of no device (NULL) are not limited.
  await db.schema.alterTable("user_keys").addColumn("device", "text").execute();
  await db.schema
    .createIndex("user_keys_user_device_kind_unique")
    .on("user_keys")
    .columns(["user_id", "device", "kind"])
    .unique()
    .execute();

  await db.schema
    .createTable("direct_messages")
    .addColumn("id", "text", (c) => c.primaryKey().notNull())
    .addColumn("sender_id", "text", (c) => c.notNull())
    .addColumn("recipient_id", "text", (c) => c.notNull())
    .addColumn("client_msg_id", "text", (c) => c.notNull())
    .addColumn("sent_at", "text", (c) => c.notNull())
    .addColumn("received_at", "text", (c) => c.notNull())
    .addColumn("signature", "text")
    .addColumn("signing_key_id", "text")
    .addColumn("verification", "text", (c) => c.notNull())
    .addColumn("hashes", "text", (c) => c.notNull())
    // What makes a retry store nothing new, whatever races: the database decides.
    .addUniqueConstraint("direct_messages_sender_client_unique", ["sender_id", "client_msg_id"])
    .execute();
  await db.schema
    .createIndex("direct_messages_recipient_index")
    .on("direct_messages")
    .column("recipient_id")
    .execute();
  await db.schema
    .createIndex("direct_messages_received_index")
    .on("direct_messages")
    .column("received_at")
    .execute();

  await db.schema
    .createTable("direct_message_copies")
    .addColumn("message_id", "text", (c) => c.notNull().references("direct_messages.id").onDelete("cascade"))
    .addColumn("device_key_id", "text", (c) => c.notNull())
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("device", "text", (c) => c.notNull())
    // NULL once the copy expired: nobody can be given it any more.
    .addColumn("enc", "text")
    .addColumn("ciphertext", "text")
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("delivered_at", "text")
    .addColumn("read_at", "text")
    .addColumn("expired_at", "text")
    .addPrimaryKeyConstraint("direct_message_copies_pk", ["message_id", "device_key_id"])
    .execute();
  await db.schema
    .createIndex("direct_message_copies_key_index")
    .on("direct_message_copies")
    .columns(["device_key_id", "message_id"])
    .execute();
  await db.schema
    .createIndex("direct_message_copies_status_index")
    .on("direct_message_copies")
    .columns(["status", "message_id"])
    .execute();
  await db.schema
    .createIndex("direct_message_copies_user_index")
    .on("direct_message_copies")
    .column("user_id")
    .execute();

  await db.schema
    .createTable("user_blocks")
    .addColumn("user_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("blocked_id", "text", (c) => c.notNull().references("users.id").onDelete("cascade"))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("user_blocks_pk", ["user_id", "blocked_id"])
    .execute();
  await db.schema.createIndex("user_blocks_blocked_index").on("user_blocks").column("blocked_id").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("user_blocks").ifExists().execute();
  await db.schema.dropTable("direct_message_copies").ifExists().execute();
  await db.schema.dropTable("direct_messages").ifExists().execute();
  await db.schema.dropIndex("user_keys_user_device_kind_unique").ifExists().execute();
  await db.schema.alterTable("user_keys").dropColumn("device").execute();
}
