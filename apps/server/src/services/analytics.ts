import { uuidv7 } from "@warren/protocol";
import { addDays, dayOf, daysFromTo, isoOf, msUntilNextDay } from "../days.js";
import type { AnalyticsRepository, AnalyticsSessionRow } from "../storage/repositories/analytics.js";

export interface AnalyticsOptions {
  repo: AnalyticsRepository;
  /** how often frame counts and the heartbeat reach the database (ANALYTICS_FLUSH_INTERVAL) */
  flushIntervalMs: number;
  /** ANALYTICS_RETENTION_DAYS */
  retentionDays: number;
  /**
   * Close every other instance's open sessions at start. True on SQLite: one process
   * owns the file, so whatever was left open belongs to a server that is gone.
   */
  recoverAllAtStart: boolean;
}

interface Log {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** Session events wait at most this long, so a burst of connects is one write. */
const SESSION_BATCH_MS = 1000;
const SESSION_BATCH_MAX = 500;
/** An instance silent for this many flush intervals is taken for gone. */
const SILENT_INTERVALS = 3;

type SessionEvent = { kind: "open" | "close"; row: AnalyticsSessionRow };

/**
 * What the server records for analytics: hub connections (who,
 * which device, when, how long; no address, no user agent), the users active each UTC
 * day, and client frames per day and type.
 *
 * Frames are counted in a plain Map on the hot path and added to the database every
 * flush interval, at UTC midnight and at shutdown: never a write per frame. Session
 * events are written in batches about a second late. Each process heartbeats a row of
 * its own; sessions left open by a process that went silent are closed with its last
 * heartbeat as their end, flagged `recovered`.
 */
export function createAnalytics(o: AnalyticsOptions) {
  const instance = uuidv7();
  const startedAt = new Date().toISOString();
  let log: Log = { warn: () => {}, info: () => {} };

  // Frames counted since the last flush, and the UTC day they belong to.
  let counts = new Map<string, number>();
  let countsDay = dayOf(Date.now());
  /** counts taken out of `counts` and not yet in the database (being written, or failed) */
  const unwritten: { day: string; counts: Map<string, number> }[] = [];

  // Users this instance has marked active today: a reconnect does not write again.
  let markedDay = countsDay;
  const marked = new Set<string>();

  let queue: SessionEvent[] = [];
  let queueTimer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();

  let flushTimer: NodeJS.Timeout | undefined;
  let running = false;
  let lastFlushDay = countsDay;

  const firstMark = (userId: string, day: string): boolean => {
    if (day !== markedDay) {
      marked.clear();
      markedDay = day;
    }
    if (marked.has(userId)) return false;
    marked.add(userId);
    return true;
  };

  /** Writes the queued session events, in order, one batch at a time. */
  const writeSessions = (): Promise<void> => {
    if (queueTimer) clearTimeout(queueTimer);
    queueTimer = undefined;
    const batch = queue;
    queue = [];
    if (batch.length === 0) return writing;
    writing = writing.then(async () => {
      const opens = batch.filter((e) => e.kind === "open").map((e) => e.row);
      const closes = batch.filter((e) => e.kind === "close").map((e) => e.row);
      try {
        await o.repo.openSessions(opens);
        await o.repo.closeSessions(closes);
      } catch {
        // One bad row (an account deleted meanwhile: its foreign key fails) must not
        // cost the others: write them one at a time, dropping only what fails.
        let failed = 0;
        for (const row of opens) await o.repo.openSessions([row]).catch(() => failed++);
        for (const row of closes) await o.repo.closeSessions([row]).catch(() => failed++);
        if (failed > 0) log.warn({ failed }, "some analytics session events could not be written");
      }
      // Active on each day of the session: its first day when it opens (once a day per
      // user and instance), the following ones when a session that crossed midnight ends.
      const active: { day: string; user_id: string }[] = [];
      try {
        for (const row of opens) {
          const day = dayOf(row.started_at);
          if (firstMark(row.user_id, day)) active.push({ day, user_id: row.user_id });
        }
        for (const row of closes) {
          const first = dayOf(row.started_at);
          const last = dayOf(row.ended_at ?? row.started_at);
          if (last > first) {
            for (const day of daysFromTo(addDays(first, 1), last)) active.push({ day, user_id: row.user_id });
          }
        }
        await o.repo.markActiveRows(active);
      } catch (err) {
        // Not marked after all: the next connection of these users tries again.
        for (const a of active) if (a.day === markedDay) marked.delete(a.user_id);
        log.warn({ err }, "marking users active failed");
      }
    });
    return writing;
  };

  const enqueue = (event: SessionEvent) => {
    queue.push(event);
    if (queue.length >= SESSION_BATCH_MAX) void writeSessions();
    else if (!queueTimer) {
      queueTimer = setTimeout(() => void writeSessions(), SESSION_BATCH_MS);
      queueTimer.unref();
    }
  };

  /** Adds the frame counts gathered so far to the database; failed ones wait for the next flush. */
  const writeCounts = async (): Promise<void> => {
    if (counts.size > 0) unwritten.push({ day: countsDay, counts });
    counts = new Map();
    countsDay = dayOf(Date.now());
    while (unwritten.length > 0) {
      const next = unwritten[0] as (typeof unwritten)[number];
      await o.repo.addMessageCounts(next.day, [...next.counts]);
      unwritten.shift();
    }
  };

  /** Closes the sessions of instances that went silent (or, at start on SQLite, of all others). */
  const recover = async (all: boolean): Promise<number> => {
    const silentSince = new Date(Date.now() - SILENT_INTERVALS * o.flushIntervalMs).toISOString();
    let closed = 0;
    for (const gone of await o.repo.abandoned(instance, silentSince, all)) {
      // The last sign of life of that process; with none known, the sessions' own starts.
      const n = await o.repo.closeAbandoned(gone.instance, gone.last_seen_at);
      closed += n;
      log.info(
        { instance: gone.instance, sessions: n, ended_at: gone.last_seen_at },
        "closed hub sessions left open by a server that stopped without closing them",
      );
    }
    await o.repo.forgetSilent(instance, silentSince);
    return closed;
  };

  // Flushes take turns: two at once would write the same counts twice.
  let turn: Promise<unknown> = Promise.resolve();
  const inTurn = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = turn.then(fn);
    turn = next.catch(() => {});
    return next;
  };

  /** One flush: counts, session events, heartbeat, day rollover, gone instances. */
  const flushNow = async (): Promise<void> => {
    await writeSessions();
    await writeCounts();
    const now = Date.now();
    await o.repo.heartbeat(instance, startedAt, new Date(now).toISOString());
    const today = dayOf(now);
    if (today !== lastFlushDay) {
      // Connections open across midnight make their users active on the new day too.
      await o.repo.markOpenActive(instance, today);
      lastFlushDay = today;
    }
    await recover(false);
  };

  const flush = (): Promise<void> => inTurn(flushNow);

  const schedule = () => {
    if (!running) return;
    // Also at midnight, so counts land on the day they were made.
    const delay = Math.min(o.flushIntervalMs, msUntilNextDay(Date.now()) + 5);
    flushTimer = setTimeout(() => {
      flush()
        .catch((err) => log.warn({ err }, "analytics flush failed"))
        .finally(schedule);
    }, delay);
    flushTimer.unref();
  };

  const rowOf = (
    id: string,
    userId: string,
    device: string,
    openedAt: number,
    closedAt: number | null,
  ): AnalyticsSessionRow => ({
    id,
    user_id: userId,
    device,
    instance,
    started_at: isoOf(openedAt),
    ended_at: closedAt === null ? null : isoOf(closedAt),
    duration_ms: closedAt === null ? null : Math.max(0, closedAt - openedAt),
    recovered: 0,
  });

  return {
    instance,

    /** One valid client frame of `type`. The hot path: one Map update, nothing else. */
    count(type: string): void {
      counts.set(type, (counts.get(type) ?? 0) + 1);
    },

    /** A hub connection opened (its id is the welcome frame's `session`). */
    sessionOpened(id: string, userId: string, device: string, openedAt: number): void {
      enqueue({ kind: "open", row: rowOf(id, userId, device, openedAt, null) });
    },

    sessionClosed(id: string, userId: string, device: string, openedAt: number, closedAt: number): void {
      enqueue({ kind: "close", row: rowOf(id, userId, device, openedAt, closedAt) });
    },

    /** Frame counts not in the database yet, by day: reports add them so they are current. */
    unflushed(): Map<string, Map<string, number>> {
      const out = new Map<string, Map<string, number>>();
      for (const part of [...unwritten, { day: countsDay, counts }]) {
        const day = out.get(part.day) ?? new Map<string, number>();
        for (const [type, n] of part.counts) day.set(type, (day.get(type) ?? 0) + n);
        out.set(part.day, day);
      }
      return out;
    },

    /** Writes everything gathered so far now (tests, shutdown). */
    flush,

    /** Removes analytics older than ANALYTICS_RETENTION_DAYS (the cleanup loop). */
    async prune(now: number = Date.now()): Promise<number> {
      return o.repo.pruneBefore(addDays(dayOf(now), -o.retentionDays));
    },

    /** Heartbeat, close what crashed servers left open, then flush every interval. */
    async start(logger: Log): Promise<void> {
      log = logger;
      await o.repo.heartbeat(instance, startedAt, startedAt);
      await recover(o.recoverAllAtStart).catch((err) =>
        log.warn({ err }, "closing abandoned hub sessions failed"),
      );
      running = true;
      schedule();
    },

    /** Last flush, then this instance is gone (its sessions are closed by now). */
    async stop(): Promise<void> {
      running = false;
      if (flushTimer) clearTimeout(flushTimer);
      await inTurn(async () => {
        await writeSessions();
        await writeCounts();
        await o.repo.retire(instance, new Date().toISOString());
      }).catch((err) => log.warn({ err }, "final analytics flush failed"));
    },
  };
}

export type Analytics = ReturnType<typeof createAnalytics>;
