import type { Http } from "../transport/http.js";
import { withQuery } from "./path.js";

export interface AnalyticsSummary {
  generated_at: string;
  day: string;
  users: { total: number; new_today: number; dau: number; wau: number; mau: number };
  sessions: { today: number; open: number; average_duration_ms: number | null };
  messages: { today: number; by_type: Record<string, number> };
}

export interface DailyUsers {
  from: string;
  to: string;
  days: { day: string; active_users: number; new_users: number; sessions: number }[];
}

export interface MessageStats {
  from: string;
  to: string;
  type: string | null;
  total: number;
  by_type: Record<string, number>;
  days: { day: string; total: number; by_type: Record<string, number> }[];
}

/** Days are UTC "YYYY-MM-DD"; both ends included. */
export interface DayRange {
  from?: string;
  to?: string;
}

/** Server analytics, for server admins only (others get forbidden). */
export function analyticsResource(http: Http) {
  return {
    summary: () => http<AnalyticsSummary>("GET", "/v1/analytics/summary"),
    dailyUsers: (range: DayRange = {}) =>
      http<DailyUsers>("GET", withQuery("/v1/analytics/users/daily", { ...range })),
    messageStats: (range: DayRange & { type?: string } = {}) =>
      http<MessageStats>("GET", withQuery("/v1/analytics/messages/stats", { ...range })),
    /** The server's /stats document (process, hub and database figures). */
    stats: () => http<Record<string, unknown>>("GET", "/stats"),
  };
}
