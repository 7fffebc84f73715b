import type { Kysely } from "kysely";
import { dayOf, daysFromTo } from "../../days.js";
import type { Schema } from "../schema.js";

/**
 * The server processes that write analytics, and the hub connections each holds open
 * (analytics_open_sessions): heartbeats, and the recovery of what a process that
 * stopped without closing its connections left open.
 */
export function analyticsInstances(db: Kysely<Schema>) {
  return {
    /** Users with a connection open on this instance now: they are active on `day` too. */
    async markOpenActive(instance: string, day: string): Promise<void> {
      await db
        .insertInto("analytics_active_users")
        .columns(["day", "user_id"])
        .expression((eb) =>
          eb
            .selectFrom("analytics_open_sessions")
            .select([eb.cast<string>(eb.val(day), "text").as("day"), "user_id"])
            .distinct()
            .where("instance", "=", instance),
        )
        .onConflict((oc) => oc.columns(["day", "user_id"]).doNothing())
        .execute();
    },

    /** This process is alive: its heartbeat. */
    async heartbeat(instance: string, startedAt: string, now: string): Promise<void> {
      await db
        .insertInto("analytics_instances")
        .values({ id: instance, started_at: startedAt, last_seen_at: now })
        .onConflict((oc) => oc.column("id").doUpdateSet({ last_seen_at: now }))
        .execute();
    },

    /**
     * A stopping instance: its last heartbeat, and its row goes unless it still has
     * open sessions (then the row's time is their end when another instance closes them).
     */
    async retire(instance: string, now: string): Promise<void> {
      await db
        .updateTable("analytics_instances")
        .set({ last_seen_at: now })
        .where("id", "=", instance)
        .execute();
      await db
        .deleteFrom("analytics_instances")
        .where("id", "=", instance)
        .where((eb) =>
          eb.not(
            eb.exists(eb.selectFrom("analytics_open_sessions").select("id").where("instance", "=", instance)),
          ),
        )
        .execute();
    },

    /**
     * Other instances that left connections open and have gone quiet: last heartbeat
     * before `silentSince` (or any, when `all`), or no heartbeat row at all. Each comes
     * with its last sign of life (null when unknown).
     */
    async abandoned(
      self: string,
      silentSince: string,
      all: boolean,
    ): Promise<{ instance: string; last_seen_at: string | null }[]> {
      const rows = await db
        .selectFrom("analytics_open_sessions as s")
        .leftJoin("analytics_instances as i", "i.id", "s.instance")
        .select(["s.instance", "i.last_seen_at"])
        .distinct()
        .where("s.instance", "!=", self)
        .$if(!all, (q) =>
          q.where((eb) => eb.or([eb("i.id", "is", null), eb("i.last_seen_at", "<", silentSince)])),
        )
        .execute();
      return rows.map((r) => ({ instance: r.instance, last_seen_at: r.last_seen_at ?? null }));
    },

    /**
     * Closes every open session of a gone instance at `endedAt` (never before its start;
     * null: at its start),
     * flagged recovered, marks their users active on the days they spanned, and forgets
     * the instance. Returns how many were closed.
     */
    async closeAbandoned(instance: string, endedAt: string | null): Promise<number> {
      return db.transaction().execute(async (tx) => {
        const open = await tx
          .selectFrom("analytics_open_sessions")
          .selectAll()
          .where("instance", "=", instance)
          .execute();
        for (const s of open) {
          const ended = endedAt !== null && endedAt > s.started_at ? endedAt : s.started_at;
          const duration = Date.parse(ended) - Date.parse(s.started_at);
          // A close already written (its process stopped before the open row went) stays.
          await tx
            .insertInto("analytics_sessions")
            .values({ ...s, ended_at: ended, duration_ms: duration, recovered: 1 })
            .onConflict((oc) => oc.column("id").doNothing())
            .execute();
          const days = daysFromTo(dayOf(s.started_at), dayOf(ended));
          await tx
            .insertInto("analytics_active_users")
            .values(days.map((day) => ({ day, user_id: s.user_id })))
            .onConflict((oc) => oc.columns(["day", "user_id"]).doNothing())
            .execute();
        }
        await tx.deleteFrom("analytics_open_sessions").where("instance", "=", instance).execute();
        await tx.deleteFrom("analytics_instances").where("id", "=", instance).execute();
        return open.length;
      });
    },

    /** Forgets other instances silent since `silentSince` that left no session open. */
    async forgetSilent(self: string, silentSince: string): Promise<void> {
      await db
        .deleteFrom("analytics_instances")
        .where("id", "!=", self)
        .where("last_seen_at", "<", silentSince)
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom("analytics_open_sessions")
                .select("analytics_open_sessions.id")
                .whereRef("analytics_open_sessions.instance", "=", "analytics_instances.id"),
            ),
          ),
        )
        .execute();
    },
  };
}
