import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createDatabase, type Database } from "../storage/create-database.js";
import { migrate } from "../storage/migrations/index.js";
import { createRepositories, type Repositories } from "../storage/repositories/index.js";
import { createAnalytics } from "./analytics.js";

/**
 * The recorder's clock-bound behaviour over a real (in-memory SQLite) database, with
 * the clock under test control: counts land on the day they were made, and a
 * connection open across midnight makes its user active on the new day.
 */
describe("analytics recorder around midnight", () => {
  let database: Database;
  let repos: Repositories;
  const quiet = { warn: vi.fn(), info: vi.fn() };

  beforeEach(async () => {
    database = createDatabase({ dbPath: ":memory:" });
    await migrate(database.db);
    repos = createRepositories(database.db);
    vi.useFakeTimers({ toFake: ["Date", "setTimeout", "clearTimeout"] });
    vi.setSystemTime(new Date("2030-06-01T23:59:50.000Z"));
  });
  afterEach(async () => {
    vi.useRealTimers();
    await database.close();
  });

  it("adds counts made before midnight to that day and later ones to the next", async () => {
    const analytics = createAnalytics({
      repo: repos.analytics,
      flushIntervalMs: 60_000,
      retentionDays: 400,
      recoverAllAtStart: true,
    });
    await analytics.start(quiet);
    await repos.users.insert({
      id: "u-1",
      username: "night",
      username_key: "night",
      email: null,
      email_key: null,
      display_name: null,
      password_hash: null,
      totp_secret: null,
      totp_enabled_at: null,
      totp_last_step: null,
      created_at: "2030-06-01T00:00:00.000Z",
      updated_at: "2030-06-01T00:00:00.000Z",
    });
    analytics.sessionOpened("s-1", "u-1", "owl", Date.now());
    for (let i = 0; i < 3; i++) analytics.count("ping");
    // Past midnight: the flush due at midnight ran, well before the 60 s interval.
    await vi.advanceTimersByTimeAsync(10_100);
    analytics.count("ping");
    analytics.count("signal");
    expect(Object.fromEntries(analytics.unflushed().get("2030-06-02") ?? [])).toEqual({ ping: 1, signal: 1 });
    await analytics.flush();
    expect(await repos.analytics.messageCounts("2030-06-01", "2030-06-02")).toEqual([
      { day: "2030-06-01", type: "ping", count: 3 },
      { day: "2030-06-02", type: "ping", count: 1 },
      { day: "2030-06-02", type: "signal", count: 1 },
    ]);
    // Still connected on the new day: active on both.
    expect(Object.fromEntries(await repos.analytics.activeByDay("2030-06-01", "2030-06-02"))).toEqual({
      "2030-06-01": 1,
      "2030-06-02": 1,
    });
    await analytics.stop();
    expect(quiet.warn).not.toHaveBeenCalled();
  });
});
