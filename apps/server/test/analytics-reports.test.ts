import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { addDays, dayOf } from "../src/days.js";
import type { AnalyticsSessionRow } from "../src/storage/repositories/analytics.js";
import { type Backend, backends } from "./helpers/backends.js";
import { clientPool, type HubUser, hubUser, sleep } from "./helpers/hub-client.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

/**
 * Analytics over a real server and real sockets: sessions recorded on connect
 * and close, frames counted per type and day, DAU/WAU/MAU and the per-day reports, and
 * the date ranges they take. Each block starts its own server, so counts are exact.
 */

const ADDRESSES = ["127.0.0.1", "::1", "::ffff:", "localhost"];

describe.each(backends())("analytics on $name", (backend: Backend) => {
  const pool = clientPool();
  let t: TestServer;
  let admin: HubUser;
  const get = (path: string, token = admin.token) => t.api("GET", path, { token });

  beforeAll(async () => {
    // A long flush interval: the tests flush through the service when they need to.
    t = await startTestServer(backend, { UPGRADE_RATE_LIMIT: "1000", ANALYTICS_FLUSH_INTERVAL: "1h" });
    admin = await hubUser(t.api);
  });
  afterEach(async () => pool.closeAll());
  afterAll(async () => t?.close());

  const analytics = () => t.server.services.analytics;
  const repo = () => t.server.repositories.analytics;

  /** Flushes until `check` holds (the hub records a close after the socket is gone). */
  async function eventually(check: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 50; i++) {
      await analytics().flush();
      if (await check()) return;
      await sleep(50);
    }
    throw new Error("analytics never caught up");
  }

  it("records a session on connect and on close, with its duration and no address", async () => {
    const u = await hubUser(t.api);
    const c = await pool.connect(t.url, u, { device: "phone-1" });
    const id = c.welcome.session as string;
    await analytics().flush();
    const open = await repo().sessionById(id);
    expect(open).toMatchObject({ id, user_id: u.id, device: "phone-1", ended_at: null, recovered: 0 });
    expect((await get("/v1/analytics/summary")).body.sessions.open).toBe(1);

    await sleep(60);
    await c.close();
    await eventually(async () => (await repo().sessionById(id))?.ended_at !== null);
    const row = (await repo().sessionById(id)) as AnalyticsSessionRow;
    const duration = Date.parse(row.ended_at as string) - Date.parse(row.started_at);
    expect(Number(row.duration_ms)).toBe(duration);
    expect(duration).toBeGreaterThanOrEqual(60);
    expect(row.recovered).toBe(0);
    // The user's own export lists it.
    const exported = (await t.api("GET", "/v1/me/export", { token: u.token })).body;
    expect(exported.hub_sessions).toEqual([
      {
        id,
        device: "phone-1",
        started_at: row.started_at,
        ended_at: row.ended_at,
        duration_ms: duration,
        recovered: false,
      },
    ]);

    // No client address in any analytics table.
    const db = t.server.database.db;
    for (const table of [
      "analytics_sessions",
      "analytics_open_sessions",
      "analytics_active_users",
      "analytics_message_counts",
      "analytics_instances",
    ] as const) {
      const rows = JSON.stringify(await db.selectFrom(table).selectAll().execute());
      for (const a of ADDRESSES) expect(rows, `${table} holds ${a}`).not.toContain(a);
    }
    const summary = (await get("/v1/analytics/summary")).body;
    expect(summary.sessions).toMatchObject({ today: 1, open: 0, average_duration_ms: duration });
    expect(summary.users).toMatchObject({ total: 2, new_today: 2, dau: 1, wau: 1, mau: 1 });
  });

  it("counts client frames per type and day in memory and adds them at the flush", async () => {
    const today = dayOf(Date.now());
    const statsOf = async (query: string) => (await get(`/v1/analytics/messages/stats?${query}`)).body;
    // Frames of the tests before this one (their hello pings) are the baseline.
    const base: Record<string, number> = (await statsOf(`from=${today}&to=${today}`)).by_type;
    const plus = (add: Record<string, number>) => {
      const out: Record<string, number> = { ...base };
      for (const [k, n] of Object.entries(add)) out[k] = (out[k] ?? 0) + n;
      return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
    };
    const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

    const u = await hubUser(t.api);
    const c = await pool.connect(t.url, u); // its hello is one ping
    for (let i = 0; i < 3; i++) expect((await c.request({ type: "ping" })).type).toBe("pong");
    for (let i = 0; i < 2; i++) await c.request({ type: "presence.query", users: [admin.id] });
    await c.request({ type: "no.such.type" }); // refused: not counted
    const expected = plus({ ping: 4, "presence.query": 2 });
    // Reports include what is not written yet.
    expect((await statsOf(`from=${today}&to=${today}`)).by_type).toEqual(expected);

    const stored = async () =>
      Object.fromEntries((await repo().messageCounts(today, today)).map((r) => [r.type, r.count]));
    await analytics().flush();
    expect(await stored()).toEqual(expected);
    await analytics().flush(); // nothing new: nothing added
    expect(await stored()).toEqual(expected);
    expect((await statsOf(`from=${today}&to=${today}`)).by_type).toEqual(expected);

    expect(await statsOf(`from=${addDays(today, -2)}&to=${today}`)).toEqual({
      from: addDays(today, -2),
      to: today,
      type: null,
      total: sum(expected),
      by_type: expected,
      days: [
        { day: addDays(today, -2), total: 0, by_type: {} },
        { day: addDays(today, -1), total: 0, by_type: {} },
        { day: today, total: sum(expected), by_type: expected },
      ],
    });
    const pings = await statsOf("type=ping");
    expect(pings.type).toBe("ping");
    expect(pings.days).toHaveLength(30);
    expect(pings.days[29].day).toBe(today);
    expect(pings.total).toBe(expected.ping);
    expect(pings.by_type).toEqual({ ping: expected.ping });
    const summary = (await get("/v1/analytics/summary")).body;
    expect(summary.messages).toEqual({ today: sum(expected), by_type: expected });
  });

  it("refuses bad date ranges with invalid_request", async () => {
    const today = dayOf(Date.now());
    for (const path of ["/v1/analytics/users/daily", "/v1/analytics/messages/stats"]) {
      for (const query of [
        "from=2026-03-02&to=2026-03-01", // backwards
        "from=2025-01-01&to=2026-01-02", // 367 days
        `from=${addDays(today, -366)}`, // to defaults to today: 367 days
        "from=2026-13-01",
        "to=2026-02-30",
        "from=yesterday",
        "from=2026-03-01T00:00:00Z",
      ]) {
        const res = await get(`${path}?${query}`);
        expect([res.status, res.body.error.code], `${path}?${query}`).toEqual([400, "invalid_request"]);
      }
      const longest = await get(`${path}?from=2025-01-01&to=2026-01-01`);
      expect(longest.status).toBe(200);
      expect(longest.body.days).toHaveLength(366);
      const one = await get(`${path}?from=2024-02-29&to=2024-02-29`);
      expect(one.body.days.map((d: { day: string }) => d.day)).toEqual(["2024-02-29"]);
    }
    const badType = await get("/v1/analytics/messages/stats?type=Bad%20Type");
    expect([badType.status, badType.body.error.code]).toEqual([400, "invalid_request"]);
  });
});

describe.each(backends())("active users on $name", (backend: Backend) => {
  let t: TestServer;
  let admin: HubUser;
  const today = dayOf(Date.now());
  const day = (n: number) => addDays(today, n);

  beforeAll(async () => {
    t = await startTestServer(backend, { ANALYTICS_FLUSH_INTERVAL: "1h", ANALYTICS_RETENTION_DAYS: "35" });
    admin = await hubUser(t.api);
    const users = await Promise.all([1, 2, 3, 4, 5].map(() => hubUser(t.api)));
    const [u1, u2, u3, u4, u5] = users.map((u) => u.id) as [string, string, string, string, string];
    const session = (user: string, start: string, end: string): AnalyticsSessionRow => ({
      id: `seed-${user}-${start}`,
      user_id: user,
      device: "seed",
      instance: "seed",
      started_at: start,
      ended_at: end,
      duration_ms: Date.parse(end) - Date.parse(start),
      recovered: 0,
    });
    const at = (d: string, time: string) => `${d}T${time}.000Z`;
    const repo = t.server.repositories.analytics;
    // Past days go in through the repository, as a server running then would have.
    await repo.recordSession(session(u1, at(today, "00:00:01"), at(today, "00:00:02")));
    await repo.recordSession(session(u2, at(day(-1), "23:00:00"), at(today, "00:30:00"))); // across midnight
    await repo.recordSession(session(u3, at(day(-3), "10:00:00"), at(day(-3), "11:00:00")));
    await repo.recordSession(session(u3, at(day(-3), "12:00:00"), at(day(-3), "13:00:00")));
    await repo.recordSession(session(u4, at(day(-10), "10:00:00"), at(day(-10), "10:05:00")));
    await repo.recordSession(session(u4, at(day(-12), "10:00:00"), at(day(-12), "10:05:00")));
    await repo.recordSession(session(u5, at(day(-40), "10:00:00"), at(day(-40), "10:05:00")));
  });
  afterAll(async () => t?.close());

  it("gives DAU, WAU and MAU as distinct users over 1, 7 and 30 UTC days", async () => {
    const summary = (await t.api("GET", "/v1/analytics/summary", { token: admin.token })).body;
    expect(summary.day).toBe(today);
    expect(summary.users).toEqual({ total: 6, new_today: 6, dau: 2, wau: 3, mau: 4 });
    expect(summary.sessions.today).toBe(1);
    expect(summary.sessions.open).toBe(0);
  });

  it("lists active users, new users and sessions per day, every day of the range", async () => {
    const res = await t.api("GET", `/v1/analytics/users/daily?from=${day(-12)}&to=${today}`, {
      token: admin.token,
    });
    expect(res.status).toBe(200);
    expect(res.body.from).toBe(day(-12));
    expect(res.body.to).toBe(today);
    expect(res.body.days).toHaveLength(13);
    const byDay = Object.fromEntries(
      res.body.days.map((d: any) => [d.day, [d.active_users, d.new_users, d.sessions]]),
    );
    const expected: Record<string, number[]> = {};
    for (let n = -12; n <= 0; n++) expected[day(n)] = [0, 0, 0];
    expected[day(-12)] = [1, 0, 1];
    expected[day(-10)] = [1, 0, 1];
    expected[day(-3)] = [1, 0, 2];
    expected[day(-1)] = [1, 0, 1];
    expected[today] = [2, 6, 1];
    expect(byDay).toEqual(expected);

    const fallback = await t.api("GET", "/v1/analytics/users/daily", { token: admin.token });
    expect([fallback.body.from, fallback.body.to]).toEqual([day(-29), today]);
    expect(fallback.body.days).toHaveLength(30);
    expect(fallback.body.days.reduce((n: number, d: any) => n + d.active_users, 0)).toBe(6);
  });

  it("prunes what is older than ANALYTICS_RETENTION_DAYS (35 here)", async () => {
    const services = t.server.services;
    const daily = async (d: string) =>
      (await t.api("GET", `/v1/analytics/users/daily?from=${d}&to=${d}`, { token: admin.token })).body
        .days[0];
    expect((await daily(day(-40))).active_users).toBe(1);
    expect(await services.analytics.prune()).toBeGreaterThan(0);
    expect(await daily(day(-40))).toEqual({ day: day(-40), active_users: 0, new_users: 0, sessions: 0 });
    expect((await daily(day(-12))).active_users).toBe(1);
    expect(await services.analytics.prune()).toBe(0);
  });
});

describe("analytics retention in the cleanup loop", () => {
  it("removes old rows on CLEANUP_INTERVAL", async () => {
    const t = await startTestServer(backends()[0] as Backend, {
      CLEANUP_INTERVAL: "200ms",
      ANALYTICS_RETENTION_DAYS: "1",
    });
    try {
      const u = await hubUser(t.api);
      const repo = t.server.repositories.analytics;
      const old = addDays(dayOf(Date.now()), -3);
      await repo.addMessageCounts(old, [["ping", 1]]);
      await repo.markActive(u.id, [old]);
      for (let i = 0; i < 50 && (await repo.messageCounts(old, old)).length > 0; i++) await sleep(50);
      expect(await repo.messageCounts(old, old)).toEqual([]);
      expect(await repo.distinctActive(old, old)).toBe(0);
    } finally {
      await t.close();
    }
  });
});
