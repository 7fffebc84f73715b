import type { Insertable, Kysely, Selectable, Updateable } from "kysely";
import type { Schema, UsersTable } from "../schema.js";

export type UserRow = Selectable<UsersTable>;

export function createUsersRepository(db: Kysely<Schema>) {
  return {
    /** is_admin may be left out: 0, a plain account. */
    async insert(row: Insertable<UsersTable>): Promise<void> {
      await db.insertInto("users").values(row).execute();
    },
    /** Is there any account at all? (The first one on an empty server is an admin.) */
    async any(): Promise<boolean> {
      return (await db.selectFrom("users").select("id").limit(1).executeTakeFirst()) !== undefined;
    },
    async byId(id: string): Promise<UserRow | undefined> {
      return db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst();
    },
    async byIds(ids: string[]): Promise<Pick<UserRow, "id" | "username">[]> {
      if (ids.length === 0) return [];
      return db.selectFrom("users").select(["id", "username"]).where("id", "in", ids).execute();
    },
    async byUsername(username: string): Promise<UserRow | undefined> {
      return db
        .selectFrom("users")
        .selectAll()
        .where("username_key", "=", username.toLowerCase())
        .executeTakeFirst();
    },
    async byEmail(email: string): Promise<UserRow | undefined> {
      return db
        .selectFrom("users")
        .selectAll()
        .where("email_key", "=", email.toLowerCase())
        .executeTakeFirst();
    },
    async update(id: string, changes: Updateable<UsersTable>): Promise<void> {
      await db.updateTable("users").set(changes).where("id", "=", id).execute();
    },
    /**
     * Records a TOTP time step as used, only if it is newer than the last one used.
     * One conditional UPDATE: of two requests racing with the same code, one wins.
     */
    async claimTotpStep(id: string, step: number, at: string): Promise<boolean> {
      const result = await db
        .updateTable("users")
        .set({ totp_last_step: step, updated_at: at })
        .where("id", "=", id)
        .where((eb) => eb.or([eb("totp_last_step", "is", null), eb("totp_last_step", "<", step)]))
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}

export type UsersRepository = ReturnType<typeof createUsersRepository>;
