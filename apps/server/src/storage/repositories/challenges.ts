import type { Kysely, Selectable } from "kysely";
import type { AuthChallengesTable, Schema } from "../schema.js";

export type ChallengeRow = Selectable<AuthChallengesTable>;

export function createChallengesRepository(db: Kysely<Schema>) {
  return {
    async insert(row: ChallengeRow): Promise<void> {
      await db.insertInto("auth_challenges").values(row).execute();
    },
    /**
     * Takes a challenge for use: marks it used if it was unused and unexpired, and
     * returns it. A second caller gets undefined, whichever of them comes first.
     */
    async consume(id: string, at: string): Promise<ChallengeRow | undefined> {
      return db.transaction().execute(async (tx) => {
        const result = await tx
          .updateTable("auth_challenges")
          .set({ used_at: at })
          .where("id", "=", id)
          .where("used_at", "is", null)
          .where("expires_at", ">", at)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) !== 1) return undefined;
        return tx.selectFrom("auth_challenges").selectAll().where("id", "=", id).executeTakeFirst();
      });
    },
    /** Drops challenges that expired before `before`; returns how many. */
    async purge(before: string): Promise<number> {
      const result = await db
        .deleteFrom("auth_challenges")
        .where("expires_at", "<", before)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export type ChallengesRepository = ReturnType<typeof createChallengesRepository>;
