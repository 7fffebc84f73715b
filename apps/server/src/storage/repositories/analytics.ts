import { type ExpressionBuilder, type Kysely, type RawBuilder, type Selectable, sql } from "kysely";
import { addDays, dayOf, dayStartIso, daysFromTo } from "../../days.js";
import { compiledRows } from "../compiled.js";
import type { AnalyticsOpenSessionsTable, AnalyticsSessionsTable, Schema } from "../schema.js";
import { analyticsInstances } from "./analytics-instances.js";

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

const OPEN_COLUMNS = [
  "id",
  "user_id",
  "device",
  "instance",
  "started_at",
] as const satisfies readonly (keyof OpenRow)[];
type OpenRow = Selectable<AnalyticsOpenSessionsTable>;

const openRowOf = (r: AnalyticsSessionRow): OpenRow => ({
  id: r.id,
  user_id: r.user_id,
  device: r.device,
  instance: r.instance,
  started_at: r.started_at,
});

/**
 * An open row whose close is not written yet. A close writes the closed row, then
 * deletes the open one: a process stopped between the two leaves both, until the
 * recovery of its sessions (closeAbandoned) deletes the open one.
 */
const notClosed = (eb: ExpressionBuilder<Schema, "analytics_open_sessions">) =>
  eb.not(
    eb.exists(
      eb
        .selectFrom("analytics_sessions as closed")
        .select("closed.id")
        .whereRef("closed.id", "=", "analytics_open_sessions.id"),
    ),
  );

/** An open connection's row in the shape of a closed one's. */
const asSession = (r: OpenRow): AnalyticsSessionRow => ({
  ...r,
  ended_at: null,
  duration_ms: null,
  recovered: 0,
});

/**
 * Analytics storage: hub connections, active users per day, frame counts per
 * day and type, and the heartbeats of the server processes writing them. Aggregates
 * come back as plain numbers (PostgreSQL's count and bigint arrive as text).
 */
export function createAnalyticsRepository(db: Kysely<Schema>) {
  // An open connection's row goes into analytics_open_sessions, which has no index on
  // user_id (migration 0008); when the connection closes, it moves to analytics_sessions.
  const insertOpens = compiledRows(db, OPEN_COLUMNS, (rows: OpenRow[]) =>
    db
      .insertInto("analytics_open_sessions")
      .values(rows)
      .onConflict((oc) => oc.column("id").doNothing()),
  );
  /** open rows of these ids whose close is already written (it came first) */
  const deleteClosedOpens = compiledRows(db, ["id"], (rows: { id: string }[]) =>
    db
      .deleteFrom("analytics_open_sessions")
      .where(
        "id",
        "in",
        rows.map((r) => r.id),
      )
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom("analytics_sessions")
            .select("analytics_sessions.id")
            .whereRef("analytics_sessions.id", "=", "analytics_open_sessions.id"),
        ),
      ),
  );
  const deleteOpens = compiledRows(db, ["id"], (rows: { id: string }[]) =>
    db.deleteFrom("analytics_open_sessions").where(
      "id",
      "in",
      rows.map((r) => r.id),
    ),
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
    /** Records connections that just opened; a session whose close is written already stays closed. */
    async openSessions(rows: readonly AnalyticsSessionRow[]): Promise<void> {
      await insertOpens(rows.map(openRowOf));
      await deleteClosedOpens(rows);
    },

    /**
     * Records connections' ends: each row moves from the open table to
     * analytics_sessions (made there when its open was not written). Written first, then
     * the open row goes: a process stopped in between leaves the session in both, and
     * its recovery (closeAbandoned) keeps the close.
     */
    async closeSessions(rows: readonly AnalyticsSessionRow[]): Promise<void> {
      await insertCloses(rows);
      await deleteOpens(rows);
    },

    /** Marks users active on days (rows already there stay as they are). */
    async markActiveRows(rows: readonly { day: string; user_id: string }[]): Promise<void> {
      await insertActive([...new Map(rows.map((r) => [`${r.day} ${r.user_id}`, r])).values()]);
    },

    async markActive(userId: string, days: readonly string[]): Promise<void> {
      await repo.markActiveRows(days.map((day) => ({ day, user_id: userId })));
    },

    /** A whole session at once, and its user active on every day it spans (imports, tests). */
    async recordSession(row: AnalyticsSessionRow): Promise<void> {
      await (row.ended_at === null ? repo.openSessions([row]) : repo.closeSessions([row]));
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
      const closed = await db
        .selectFrom("analytics_sessions")
        .select(["id", "device", "started_at", "ended_at", "duration_ms", "recovered"])
        .where("user_id", "=", userId)
        .execute();
      const open = await db
        .selectFrom("analytics_open_sessions")
        .select(["id", "device", "started_at"])
        .where("user_id", "=", userId)
        .execute();
      // A session in both (its process stopped between the two writes of a close) is closed.
      const seen = new Set(closed.map((r) => r.id));
      const rows = [
        ...closed.map((r) => ({
          ...r,
          duration_ms: r.duration_ms === null ? null : Number(r.duration_ms),
          recovered: r.recovered === 1,
        })),
        ...open
          .filter((r) => !seen.has(r.id))
          .map((r) => ({ ...r, ended_at: null, duration_ms: null, recovered: false })),
      ];
      return rows.sort((a, b) =>
        a.started_at === b.started_at ? (a.id < b.id ? -1 : 1) : a.started_at < b.started_at ? -1 : 1,
      );
    },

    async sessionById(id: string): Promise<AnalyticsSessionRow | undefined> {
      const closed = await db
        .selectFrom("analytics_sessions")
        .selectAll()
        .where("id", "=", id)
        .executeTakeFirst();
      if (closed) return closed;
      const open = await db
        .selectFrom("analytics_open_sessions")
        .selectAll()
        .where("id", "=", id)
        .executeTakeFirst();
      return open && asSession(open);
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

    ...analyticsInstances(db),

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
      const closed = await db
        .selectFrom("analytics_sessions")
        .select([day.as("day"), (eb) => eb.fn.countAll<string | number>().as("n")])
        .where("started_at", ">=", dayStartIso(from))
        .where("started_at", "<", dayStartIso(addDays(to, 1)))
        .groupBy(day)
        .execute();
      const open = await db
        .selectFrom("analytics_open_sessions")
        .select([day.as("day"), (eb) => eb.fn.countAll<string | number>().as("n")])
        .where("started_at", ">=", dayStartIso(from))
        .where("started_at", "<", dayStartIso(addDays(to, 1)))
        .where(notClosed)
        .groupBy(day)
        .execute();
      const counts = new Map<string, number>();
      for (const r of [...closed, ...open]) counts.set(r.day, (counts.get(r.day) ?? 0) + Number(r.n));
      return counts;
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
        .selectFrom("analytics_open_sessions")
        .select((eb) => eb.fn.countAll<string | number>().as("n"))
        .where(notClosed)
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
