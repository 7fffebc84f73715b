import type { Kysely } from "kysely";
import { compiled } from "../compiled.js";
import type { Schema } from "../schema.js";

/** Who blocked whom. A block is one row; the blocked user is never told. */
export function createBlocksRepository(db: Kysely<Schema>) {
  /** a block between a and b, either way (every direct message asks) */
  const between = compiled(db, (a: string, b: string) =>
    db
      .selectFrom("user_blocks")
      .select("user_id")
      .where((eb) =>
        eb.or([
          eb.and([eb("user_id", "=", a), eb("blocked_id", "=", b)]),
          eb.and([eb("user_id", "=", b), eb("blocked_id", "=", a)]),
        ]),
      )
      .limit(1),
  );
  return {
    /** Adds the block unless it exists; returns its time (the first one's, on a repeat). */
    async add(
      userId: string,
      blockedId: string,
      at: string,
    ): Promise<{ created: boolean; created_at: string }> {
      const inserted = await db
        .insertInto("user_blocks")
        .values({ user_id: userId, blocked_id: blockedId, created_at: at })
        .onConflict((oc) => oc.columns(["user_id", "blocked_id"]).doNothing())
        .returning("created_at")
        .executeTakeFirst();
      if (inserted) return { created: true, created_at: inserted.created_at };
      const row = await db
        .selectFrom("user_blocks")
        .select("created_at")
        .where("user_id", "=", userId)
        .where("blocked_id", "=", blockedId)
        .executeTakeFirst();
      return { created: false, created_at: row?.created_at ?? at };
    },

    async remove(userId: string, blockedId: string): Promise<boolean> {
      const r = await db
        .deleteFrom("user_blocks")
        .where("user_id", "=", userId)
        .where("blocked_id", "=", blockedId)
        .executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },

    /** The users `userId` blocked, with their current usernames, oldest block first. */
    async list(userId: string): Promise<{ user_id: string; username: string; created_at: string }[]> {
      return db
        .selectFrom("user_blocks as b")
        .innerJoin("users as u", "u.id", "b.blocked_id")
        .select(["b.blocked_id as user_id", "u.username", "b.created_at"])
        .where("b.user_id", "=", userId)
        .orderBy("b.created_at")
        .orderBy("b.blocked_id")
        .execute();
    },

    /** True when either of the two blocked the other. */
    async eitherWay(a: string, b: string): Promise<boolean> {
      return (await between(a, b)).length > 0;
    },
  };
}

export type BlocksRepository = ReturnType<typeof createBlocksRepository>;
