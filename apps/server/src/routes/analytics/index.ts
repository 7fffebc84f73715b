import {
  AnalyticsRangeQuery,
  AnalyticsSummary,
  DailyUsers,
  MessageStats,
  MessageStatsQuery,
} from "@warren/protocol";
import type { FastifyInstance } from "fastify";
import { errors, type RouteDeps, typed } from "../shared.js";

/** Server analytics: server admins only; anyone else signed in gets 403. */
export async function analyticsRoutes(app: FastifyInstance, { services }: RouteDeps) {
  const r = typed(app);
  const reports = services.analyticsReports;

  r.get(
    "/analytics/summary",
    {
      schema: {
        tags: ["analytics"],
        summary: "Users, active users (DAU, WAU, MAU), hub sessions and messages today",
        response: { 200: AnalyticsSummary, ...errors(401, 403) },
      },
    },
    async (request) => reports.summary(request.user.userId),
  );

  r.get(
    "/analytics/users/daily",
    {
      schema: {
        tags: ["analytics"],
        summary: "Active users, new users and hub sessions per UTC day (default: the last 30 days)",
        querystring: AnalyticsRangeQuery,
        response: { 200: DailyUsers, ...errors(400, 401, 403) },
      },
    },
    async (request) => reports.dailyUsers(request.user.userId, request.query),
  );

  r.get(
    "/analytics/messages/stats",
    {
      schema: {
        tags: ["analytics"],
        summary: "Client frames per UTC day and type (default: the last 30 days)",
        querystring: MessageStatsQuery,
        response: { 200: MessageStats, ...errors(400, 401, 403) },
      },
    },
    async (request) => reports.messageStats(request.user.userId, request.query),
  );
}
