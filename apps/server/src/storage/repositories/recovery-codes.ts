import type { Kysely, Selectable } from "kysely";
import type { RecoveryCodesTable, Schema } from "../schema.js";

export type RecoveryCodeRow = Selectable<RecoveryCodesTable>;

export function createRecoveryCodesRepository(db: Kysely<Schema>) {
  return {
    /** Replaces every code of the user with a new set. */
    async replace(userId: string, rows: RecoveryCodeRow[]): Promise<void> {
      await db.transaction().execute(async (tx) => {
        await tx.deleteFrom("recovery_codes").where("user_id", "=", userId).execute();
        if (rows.length > 0) await tx.insertInto("recovery_codes").values(rows).execute();
      });
    },
    /** Uses a code once: true only for the first caller with an unused matching code. */
    async consume(userId: string, codeHash: string, at: string): Promise<boolean> {
      const result = await db
        .updateTable("recovery_codes")
        .set({ used_at: at })
        .where("user_id", "=", userId)
        .where("code_hash", "=", codeHash)
        .where("used_at", "is", null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async deleteAll(userId: string): Promise<void> {
      await db.deleteFrom("recovery_codes").where("user_id", "=", userId).execute();
    },
    async countUnused(userId: string): Promise<number> {
      const row = await db
        .selectFrom("recovery_codes")
        .select((eb) => eb.fn.countAll<string | number>().as("n"))
        .where("user_id", "=", userId)
        .where("used_at", "is", null)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}

export type RecoveryCodesRepository = ReturnType<typeof createRecoveryCodesRepository>;
