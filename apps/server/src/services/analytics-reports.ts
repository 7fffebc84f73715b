import {
  ANALYTICS_DEFAULT_DAYS,
  ANALYTICS_MAX_DAYS,
  type AnalyticsRangeQuery,
  type AnalyticsSummary,
  type DailyUsers,
  type MessageStats,
  type MessageStatsQuery,
} from "@warren/protocol";
import { addDays, dayCount, dayOf, daysFromTo } from "../days.js";
import { AppError } from "../errors.js";
import { adminSet, isServerAdmin } from "../policy/policy.js";
import type { Repositories } from "../storage/repositories/index.js";
import type { Analytics } from "./analytics.js";

export interface AnalyticsReportsDeps {
  repos: Pick<Repositories, "users" | "analytics">;
  analytics: Pick<Analytics, "unflushed">;
  /** ADMIN_USERS */
  adminUsers: readonly string[];
}

/** A count map as a JSON object, keys in order (stable answers). */
function sorted(counts: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of [...counts.keys()].sort()) out[key] = counts.get(key) ?? 0;
  return out;
}

const add = (into: Map<string, number>, key: string, n: number) => into.set(key, (into.get(key) ?? 0) + n);

/**
 * The analytics server admins read (GET /v1/analytics/…). Anyone else signed
 * in gets 403: that analytics exist is no secret, what they say is.
 */
export function createAnalyticsReports({ repos, analytics, adminUsers }: AnalyticsReportsDeps) {
  const admins = adminSet(adminUsers);
  const a = repos.analytics;

  const requireAdmin = async (userId: string): Promise<void> => {
    const user = await repos.users.byId(userId);
    if (!user || !isServerAdmin(user, admins)) {
      throw new AppError("forbidden", "Only server admins may read analytics");
    }
  };

  /** The days asked for: `to` defaults to today, `from` to 29 days before `to`. */
  const rangeOf = (query: AnalyticsRangeQuery): { from: string; to: string } => {
    const to = query.to ?? dayOf(Date.now());
    const from = query.from ?? addDays(to, -(ANALYTICS_DEFAULT_DAYS - 1));
    if (from > to) {
      throw new AppError("invalid_request", "from must not be after to", {
        details: { field: "querystring.from" },
      });
    }
    if (dayCount(from, to) > ANALYTICS_MAX_DAYS) {
      throw new AppError("invalid_request", `A range covers at most ${ANALYTICS_MAX_DAYS} days`, {
        details: { field: "querystring.from", max_days: ANALYTICS_MAX_DAYS },
      });
    }
    return { from, to };
  };

  /** Stored frame counts plus those this instance has not written yet. */
  const messageCounts = async (from: string, to: string, type?: string) => {
    // Taken before reading the table: a flush in between then counts once, not twice.
    const pending = analytics.unflushed();
    const byDay = new Map<string, Map<string, number>>();
    const dayMap = (day: string) => {
      const m = byDay.get(day) ?? new Map<string, number>();
      byDay.set(day, m);
      return m;
    };
    for (const row of await a.messageCounts(from, to, type)) add(dayMap(row.day), row.type, row.count);
    for (const [day, counts] of pending) {
      if (day < from || day > to) continue;
      for (const [t, n] of counts) if (type === undefined || t === type) add(dayMap(day), t, n);
    }
    return byDay;
  };

  return {
    requireAdmin,

    async summary(userId: string): Promise<AnalyticsSummary> {
      await requireAdmin(userId);
      const now = Date.now();
      const today = dayOf(now);
      const messages = (await messageCounts(today, today)).get(today) ?? new Map<string, number>();
      let total = 0;
      for (const n of messages.values()) total += n;
      return {
        generated_at: new Date(now).toISOString(),
        day: today,
        users: {
          total: await a.userCount(),
          new_today: (await a.newUsersByDay(today, today)).get(today) ?? 0,
          dau: await a.distinctActive(today, today),
          wau: await a.distinctActive(addDays(today, -6), today),
          mau: await a.distinctActive(addDays(today, -29), today),
        },
        sessions: {
          today: (await a.sessionsByDay(today, today)).get(today) ?? 0,
          open: await a.openSessionCount(),
          average_duration_ms: await a.averageDurationEndedOn(today),
        },
        messages: { today: total, by_type: sorted(messages) },
      };
    },

    async dailyUsers(userId: string, query: AnalyticsRangeQuery): Promise<DailyUsers> {
      await requireAdmin(userId);
      const { from, to } = rangeOf(query);
      const active = await a.activeByDay(from, to);
      const created = await a.newUsersByDay(from, to);
      const sessions = await a.sessionsByDay(from, to);
      return {
        from,
        to,
        days: daysFromTo(from, to).map((day) => ({
          day,
          active_users: active.get(day) ?? 0,
          new_users: created.get(day) ?? 0,
          sessions: sessions.get(day) ?? 0,
        })),
      };
    },

    async messageStats(userId: string, query: MessageStatsQuery): Promise<MessageStats> {
      await requireAdmin(userId);
      const { from, to } = rangeOf(query);
      const byDay = await messageCounts(from, to, query.type);
      const totals = new Map<string, number>();
      let total = 0;
      const days = daysFromTo(from, to).map((day) => {
        const counts = byDay.get(day) ?? new Map<string, number>();
        let dayTotal = 0;
        for (const [t, n] of counts) {
          dayTotal += n;
          add(totals, t, n);
        }
        total += dayTotal;
        return { day, total: dayTotal, by_type: sorted(counts) };
      });
      return { from, to, type: query.type ?? null, total, by_type: sorted(totals), days };
    },
  };
}

export type AnalyticsReports = ReturnType<typeof createAnalyticsReports>;
