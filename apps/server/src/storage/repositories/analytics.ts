import { type Kysely, type RawBuilder, type Selectable, sql } from "kysely";
import { addDays, dayOf, dayStartIso, daysFromTo } from "../../days.js";
import { compiledRows } from "../compiled.js";
import type { AnalyticsSessionsTable, Schema } from "../schema.js";

export type AnalyticsSessionRow = Selectable<AnalyticsSessionsTable>;

/** The UTC day of a stored time: its first ten characters, the same in both dialects. */
const dayExpr = (column: string): RawBuilder<string> => sql<string>`substr(${sql.ref(column)}, 1, 10)`;

/** Every UTC day a session was open on: from its start to its end (or its start, while open). */
export function sessionDays(row: Pick<AnalyticsSessionRow, "started_at" | "ended_at">): string[] {
  return daysFromTo(dayOf(row.started_at), dayOf(row.ended_at ?? row.started_at));
}

const SESSION_COLUMNS = [
  "id",
  "user_id",
  "device",
  "instance",
  "started_at",
  "ended_at",
  "duration_ms",
  "recovered",
] as const satisfies readonly (keyof AnalyticsSessionRow)[];

/**
 * Analytics storage: hub connections, active users per day, frame counts per
 * day and type, and the heartbeats of the server processes writing them. Aggregates
 * come back as plain numbers (PostgreSQL's count and bigint arrive as text).
 */
export function createAnalyticsRepository(db: Kysely<Schema>) {
  const insertOpens = compiledRows(db, SESSION_COLUMNS, (rows: AnalyticsSessionRow[]) =>
    db
      .insertInto("analytics_sessions")
      .values(rows)
      .onConflict((oc) => oc.column("id").doNothing()),
  );
  const insertCloses = compiledRows(db, SESSION_COLUMNS, (rows: AnalyticsSessionRow[]) =>
    db
      .insertInto("analytics_sessions")
      .values(rows)
      .onConflict((oc) =>
        oc.column("id").doUpdateSet((eb) => ({
          ended_at: eb.ref("excluded.ended_at"),
          duration_ms: eb.ref("excluded.duration_ms"),
          recovered: eb.ref("excluded.recovered"),
        })),
      ),
  );
  const insertActive = compiledRows(db, ["day", "user_id"], (rows: { day: string; user_id: string }[]) =>
    db
      .insertInto("analytics_active_users")
      .values(rows)
      .onConflict((oc) => oc.columns(["day", "user_id"]).doNothing()),
  );
  const repo = {
    /** Records connections that just opened; a row already there (its close came first) stays. */
    openSessions: (rows: readonly AnalyticsSessionRow[]): Promise<void> => insertOpens(rows),

    /** Records connections' ends, creating the rows whose open was not written yet. */
    closeSessions: (rows: readonly AnalyticsSessionRow[]): Promise<void> => insertCloses(rows),

    /** Marks users active on days (rows already there stay as they are). */
    async markActiveRows(rows: readonly { day: string; user_id: string }[]): Promise<void> {
      await insertActive([...new Map(rows.map((r) => [`${r.day} ${r.user_id}`, r])).values()]);
    },

    async markActive(userId: string, days: readonly string[]): Promise<void> {
      await repo.markActiveRows(days.map((day) => ({ day, user_id: userId })));
    },

    /** A whole session at once, and its user active on every day it spans (imports, tests). */
    async recordSession(row: AnalyticsSessionRow): Promise<void> {
      await repo.closeSessions([row]);
      await repo.markActive(row.user_id, sessionDays(row));
    },

    /** A user's sessions, oldest first (the personal data export). */
    async sessionsOfUser(userId: string): Promise<
      {
        id: string;
        device: string;
        started_at: string;
        ended_at: string | null;
        duration_ms: number | null;
        recovered: boolean;
      }[]
    > {
      const rows = await db
        .selectFrom("analytics_sessions")
        .select(["id", "device", "started_at", "ended_at", "duration_ms", "recovered"])
        .where("user_id", "=", userId)
        .orderBy("started_at")
        .orderBy("id")
        .execute();
      return rows.map((r) => ({
        ...r,
        duration_ms: r.duration_ms === null ? null : Number(r.duration_ms),
        recovered: r.recovered === 1,
      }));
    },

    async sessionById(id: string): Promise<AnalyticsSessionRow | undefined> {
      return db.selectFrom("analytics_sessions").selectAll().where("id", "=", id).executeTakeFirst();
    },

    /** Users with a connection open on this instance now: they are active on `day` too. */
    async markOpenActive(instance: string, day: string): Promise<void> {
      await db
        .insertInto("analytics_active_users")
        .columns(["day", "user_id"])
        .expression((eb) =>
          eb
            .selectFrom("analytics_sessions")
            .select([eb.cast<string>(eb.val(day), "text").as("day"), "user_id"])
            .distinct()
            .where("instance", "=", instance)
            .where("ended_at", "is", null),
        )
        .onConflict((oc) => oc.columns(["day", "user_id"]).doNothing())
        .execute();
    },

    /** Adds frame counts to the (day, type) rows, creating them as needed. */
    async addMessageCounts(day: string, counts: readonly (readonly [string, number])[]): Promise<void> {
      if (counts.length === 0) return;
      await db
        .insertInto("analytics_message_counts")
        .values(counts.map(([type, count]) => ({ day, type, count })))
        .onConflict((oc) =>
          oc.columns(["day", "type"]).doUpdateSet((eb) => ({
            count: eb(eb.ref("analytics_message_counts.count"), "+", eb.ref("excluded.count")),
          })),
        )
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
            eb.exists(
              eb
                .selectFrom("analytics_sessions")
                .select("id")
                .where("instance", "=", instance)
                .where("ended_at", "is", null),
            ),
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
        .selectFrom("analytics_sessions as s")
        .leftJoin("analytics_instances as i", "i.id", "s.instance")
        .select(["s.instance", "i.last_seen_at"])
        .distinct()
        .where("s.ended_at", "is", null)
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
          .selectFrom("analytics_sessions")
          .selectAll()
          .where("instance", "=", instance)
          .where("ended_at", "is", null)
          .execute();
        const r = createAnalyticsRepository(tx);
        for (const s of open) {
          const ended = endedAt !== null && endedAt > s.started_at ? endedAt : s.started_at;
          const duration = Date.parse(ended) - Date.parse(s.started_at);
          await tx
            .updateTable("analytics_sessions")
            .set({ ended_at: ended, duration_ms: duration, recovered: 1 })
            .where("id", "=", s.id)
            .execute();
          await r.markActive(s.user_id, sessionDays({ started_at: s.started_at, ended_at: ended }));
        }
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
                .selectFrom("analytics_sessions")
                .select("analytics_sessions.id")
                .whereRef("analytics_sessions.instance", "=", "analytics_instances.id")
                .where("analytics_sessions.ended_at", "is", null),
            ),
          ),
        )
        .execute();
    },

    /** Removes what is older than `day` (that day itself stays). Open sessions stay. */
    async pruneBefore(day: string): Promise<number> {
      const start = dayStartIso(day);
      const a = await db.deleteFrom("analytics_sessions").where("ended_at", "<", start).executeTakeFirst();
      const b = await db.deleteFrom("analytics_active_users").where("day", "<", day).executeTakeFirst();
      const c = await db.deleteFrom("analytics_message_counts").where("day", "<", day).executeTakeFirst();
      return Number(a.numDeletedRows) + Number(b.numDeletedRows) + Number(c.numDeletedRows);
    },

    async userCount(): Promise<number> {
      const row = await db
        .selectFrom("users")
        .select((eb) => eb.fn.countAll<string | number>().as("n"))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    /** Accounts created per day, from `from` to `to` (days, both included). */
    async newUsersByDay(from: string, to: string): Promise<Map<string, number>> {
      const day = dayExpr("created_at");
      const rows = await db
        .selectFrom("users")
        .select([day.as("day"), (eb) => eb.fn.countAll<string | number>().as("n")])
        .where("created_at", ">=", dayStartIso(from))
        .where("created_at", "<", dayStartIso(addDays(to, 1)))
        .groupBy(day)
        .execute();
      return new Map(rows.map((r) => [r.day, Number(r.n)]));
    },

    /** Connections opened per day, from `from` to `to` (days, both included). */
    async sessionsByDay(from: string, to: string): Promise<Map<string, number>> {
      const day = dayExpr("started_at");
      const rows = await db
        .selectFrom("analytics_sessions")
        .select([day.as("day"), (eb) => eb.fn.countAll<string | number>().as("n")])
        .where("started_at", ">=", dayStartIso(from))
        .where("started_at", "<", dayStartIso(addDays(to, 1)))
        .groupBy(day)
        .execute();
      return new Map(rows.map((r) => [r.day, Number(r.n)]));
    },

    /** Active users per day, from `from` to `to` (days, both included). */
    async activeByDay(from: string, to: string): Promise<Map<string, number>> {
      const rows = await db
        .selectFrom("analytics_active_users")
        .select(["day", (eb) => eb.fn.countAll<string | number>().as("n")])
        .where("day", ">=", from)
        .where("day", "<=", to)
        .groupBy("day")
        .execute();
      return new Map(rows.map((r) => [r.day, Number(r.n)]));
    },

    /** Distinct users active on any day from `from` to `to` (both included). */
    async distinctActive(from: string, to: string): Promise<number> {
      const row = await db
        .selectFrom("analytics_active_users")
        .select((eb) => eb.fn.count<string | number>("user_id").distinct().as("n"))
        .where("day", ">=", from)
        .where("day", "<=", to)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async openSessionCount(): Promise<number> {
      const row = await db
        .selectFrom("analytics_sessions")
        .select((eb) => eb.fn.countAll<string | number>().as("n"))
        .where("ended_at", "is", null)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    /** Mean duration of the sessions that ended on `day`, or null when none did. */
    async averageDurationEndedOn(day: string): Promise<number | null> {
      const row = await db
        .selectFrom("analytics_sessions")
        .select((eb) => eb.fn.avg<string | number | null>("duration_ms").as("avg"))
        .where("ended_at", ">=", dayStartIso(day))
        .where("ended_at", "<", dayStartIso(addDays(day, 1)))
        .executeTakeFirstOrThrow();
      return row.avg === null ? null : Math.round(Number(row.avg));
    },

    /** Frame counts per day and type, from `from` to `to` (both included), optionally one type. */
    async messageCounts(
      from: string,
      to: string,
      type?: string,
    ): Promise<{ day: string; type: string; count: number }[]> {
      const rows = await db
        .selectFrom("analytics_message_counts")
        .select(["day", "type", "count"])
        .where("day", ">=", from)
        .where("day", "<=", to)
        .$if(type !== undefined, (q) => q.where("type", "=", type as string))
        .orderBy("day")
        .orderBy("type")
        .execute();
      return rows.map((r) => ({ day: r.day, type: r.type, count: Number(r.count) }));
    },
  };
  return repo;
}

export type AnalyticsRepository = ReturnType<typeof createAnalyticsRepository>;
