import { type Static, Type } from "typebox";
import { Timestamp } from "./common.js";

/**
 * Server analytics for server admins (/analytics/summary, /users/daily and
 * /messages/stats: paths kept for compatibility with existing clients). Days are UTC
 * calendar days, written YYYY-MM-DD.
 */

/** The longest range one request may ask for, in days, both ends included. */
export const ANALYTICS_MAX_DAYS = 366;
/** The range when neither end is given: the last 30 days, today included. */
export const ANALYTICS_DEFAULT_DAYS = 30;

const day = (description = "a UTC day, YYYY-MM-DD") => Type.String({ format: "date", description });
export const AnalyticsDay = day();

const count = (description?: string) =>
  Type.Integer(description === undefined ? { minimum: 0 } : { minimum: 0, description });
const Count = count();
const CountsByType = Type.Record(Type.String(), Count, {
  description: "frame type → count; types with no frames are left out",
});

export const AnalyticsRangeQuery = Type.Object({
  from: Type.Optional(day("first day, YYYY-MM-DD (default: 29 days before `to`)")),
  to: Type.Optional(day("last day, included, YYYY-MM-DD (default: today)")),
});

export const MessageStatsQuery = Type.Object({
  ...AnalyticsRangeQuery.properties,
  type: Type.Optional(
    Type.String({ pattern: "^[a-z][a-z0-9_.]{0,63}$", description: "only this frame type" }),
  ),
});

export const AnalyticsSummary = Type.Object({
  generated_at: Timestamp,
  day: AnalyticsDay,
  users: Type.Object({
    total: Count,
    new_today: Count,
    dau: count("distinct users with a hub connection today"),
    wau: count("distinct users with a hub connection in the last 7 days, today included"),
    mau: count("distinct users with a hub connection in the last 30 days, today included"),
  }),
  sessions: Type.Object({
    today: count("hub connections opened today"),
    open: count("hub connections open now, on every instance"),
    average_duration_ms: Type.Union([Count, Type.Null()], {
      description: "mean length of the connections that ended today; null when none did",
    }),
  }),
  messages: Type.Object({
    today: Count,
    by_type: CountsByType,
  }),
});

export const DailyUsers = Type.Object({
  from: AnalyticsDay,
  to: AnalyticsDay,
  days: Type.Array(
    Type.Object({
      day: AnalyticsDay,
      active_users: Count,
      new_users: Count,
      sessions: count("hub connections opened that day"),
    }),
    { description: "every day of the range, oldest first" },
  ),
});

export const MessageStats = Type.Object({
  from: AnalyticsDay,
  to: AnalyticsDay,
  type: Type.Union([Type.String(), Type.Null()], { description: "the type asked for, or null for all" }),
  total: Count,
  by_type: CountsByType,
  days: Type.Array(Type.Object({ day: AnalyticsDay, total: Count, by_type: CountsByType }), {
    description: "every day of the range, oldest first",
  }),
});

export type AnalyticsRangeQuery = Static<typeof AnalyticsRangeQuery>;
export type MessageStatsQuery = Static<typeof MessageStatsQuery>;
export type AnalyticsSummary = Static<typeof AnalyticsSummary>;
export type DailyUsers = Static<typeof DailyUsers>;
export type MessageStats = Static<typeof MessageStats>;
