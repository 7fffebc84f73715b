import type { Kysely } from "kysely";

// A session remembers when its holder last proved who they are (password and TOTP, or
// a signature by one of the account's keys): adding or replacing credentials needs a
// recent proof, so a stolen access or refresh token cannot plant a key of its own.
// user_agent lets the account tell its sessions apart when it lists them.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("sessions").addColumn("proved_at", "text").execute();
  await db.schema.alterTable("sessions").addColumn("user_agent", "text").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("sessions").dropColumn("user_agent").execute();
  await db.schema.alterTable("sessions").dropColumn("proved_at").execute();
}
