import { uuidv7 } from "@warren/protocol";
import { describe, expect, it } from "vitest";
import type { AnalyticsSessionRow } from "./analytics.js";
import { newUser, type Open, useDatabase } from "./fixtures.js";
import type { Repositories } from "./index.js";
import type { UserRow } from "./users.js";

/**
 * The analytics repository's part of the repository contract, on every backend, over
 * the database of analyticsRepositoryContract. Each case uses days of its
 * own, so the cases do not see each other's rows.
 */
export function analyticsContract(repos: () => Repositories, newUser: (over?: Partial<UserRow>) => UserRow) {
  const user = async (over: Partial<UserRow> = {}) => {
    const u = newUser(over);
    await repos().users.insert(u);
    return u;
  };
  const session = (over: Partial<AnalyticsSessionRow> & { user_id: string }): AnalyticsSessionRow => ({
    id: uuidv7(),
    device: "laptop",
    instance: "inst-test",
    started_at: "2001-01-01T10:00:00.000Z",
    ended_at: null,
    duration_ms: null,
    recovered: 0,
    ...over,
  });

  it("allows one first-account admin (is_admin), whatever races", async () => {
    const first = await user({ is_admin: 1 });
    expect((await repos().users.byId(first.id))?.is_admin).toBe(1);
    expect(await repos().users.any()).toBe(true);
    const racers = await Promise.allSettled([user({ is_admin: 1 }), user({ is_admin: 1 })]);
    expect(racers.every((r) => r.status === "rejected")).toBe(true);
    expect((await user({ is_admin: 0 })).is_admin).toBe(0);
  });

  it("records a session's open and close in either order, with no address anywhere", async () => {
    const u = await user();
    const a = session({ user_id: u.id });
    await repos().analytics.openSessions([a]);
    expect(await repos().analytics.sessionById(a.id)).toEqual(a);
    const closed = { ...a, ended_at: "2001-01-01T10:00:05.000Z", duration_ms: 5000 };
    await repos().analytics.closeSessions([closed]);
    const row = await repos().analytics.sessionById(a.id);
    expect({ ...row, duration_ms: Number(row?.duration_ms) }).toEqual(closed);
    expect(Object.keys(row ?? {}).sort()).toEqual(
      ["device", "duration_ms", "ended_at", "id", "instance", "recovered", "started_at", "user_id"].sort(),
    );

    // The close written before the open: the open changes nothing.
    const b = session({ user_id: u.id });
    const bClosed = { ...b, ended_at: "2001-01-01T11:00:00.000Z", duration_ms: 3_600_000 };
    await repos().analytics.closeSessions([bClosed]);
    await repos().analytics.openSessions([b]);
    expect((await repos().analytics.sessionById(b.id))?.ended_at).toBe(bClosed.ended_at);
  });

  it("adds frame counts per day and type, also when writers race", async () => {
    const a = repos().analytics;
    await a.addMessageCounts("2002-02-01", [
      ["ping", 3],
      ["signal", 2],
    ]);
    await a.addMessageCounts("2002-02-01", [["ping", 4]]);
    await Promise.all([1, 2, 3, 4, 5].map((n) => a.addMessageCounts("2002-02-02", [["ping", n]])));
    expect(await a.messageCounts("2002-02-01", "2002-02-02")).toEqual([
      { day: "2002-02-01", type: "ping", count: 7 },
      { day: "2002-02-01", type: "signal", count: 2 },
      { day: "2002-02-02", type: "ping", count: 15 },
    ]);
    expect(await a.messageCounts("2002-02-01", "2002-02-01", "signal")).toEqual([
      { day: "2002-02-01", type: "signal", count: 2 },
    ]);
    await a.addMessageCounts("2002-02-03", [["big", 3_000_000_000]]);
    await a.addMessageCounts("2002-02-03", [["big", 3_000_000_000]]);
    expect((await a.messageCounts("2002-02-03", "2002-02-03"))[0]?.count).toBe(6_000_000_000);
  });

  it("counts active users per day and distinct users over a range", async () => {
    const a = repos().analytics;
    const [u1, u2, u3] = [await user(), await user(), await user()];
    // u1: one session across two midnights; u2: two sessions on one day; u3: another day.
    await a.recordSession(
      session({
        user_id: u1.id,
        started_at: "2003-03-01T23:00:00.000Z",
        ended_at: "2003-03-03T01:00:00.000Z",
        duration_ms: 26 * 3_600_000,
      }),
    );
    for (const h of ["08", "09"]) {
      await a.recordSession(
        session({
          user_id: u2.id,
          started_at: `2003-03-02T${h}:00:00.000Z`,
          ended_at: `2003-03-02T${h}:30:00.000Z`,
          duration_ms: 1_800_000,
        }),
      );
    }
    await a.recordSession(session({ user_id: u3.id, started_at: "2003-03-05T12:00:00.000Z" }));
    const perDay = await a.activeByDay("2003-03-01", "2003-03-05");
    expect(Object.fromEntries(perDay)).toEqual({
      "2003-03-01": 1,
      "2003-03-02": 2,
      "2003-03-03": 1,
      "2003-03-05": 1,
    });
    expect(await a.distinctActive("2003-03-01", "2003-03-05")).toBe(3);
    expect(await a.distinctActive("2003-03-02", "2003-03-03")).toBe(2);
    expect(await a.distinctActive("2003-03-04", "2003-03-04")).toBe(0);
    expect(Object.fromEntries(await a.sessionsByDay("2003-03-01", "2003-03-05"))).toEqual({
      "2003-03-01": 1,
      "2003-03-02": 2,
      "2003-03-05": 1,
    });
    expect(await a.averageDurationEndedOn("2003-03-02")).toBe(1_800_000);
    expect(await a.averageDurationEndedOn("2003-03-04")).toBeNull();
  });

  it("makes users with an open connection active on a new day", async () => {
    const a = repos().analytics;
    const u = await user();
    await a.openSessions([
      session({ user_id: u.id, instance: "inst-open", started_at: "2004-04-01T23:59:00.000Z" }),
    ]);
    await a.markOpenActive("inst-open", "2004-04-02");
    await a.markOpenActive("inst-open", "2004-04-02");
    expect(Object.fromEntries(await a.activeByDay("2004-04-01", "2004-04-03"))).toEqual({ "2004-04-02": 1 });
    await a.closeAbandoned("inst-open", null);
  });

  it("closes the open sessions of a silent instance at its last heartbeat, flagged", async () => {
    const a = repos().analytics;
    const u = await user();
    await a.heartbeat("inst-gone", "2005-05-01T00:00:00.000Z", "2005-05-02T12:00:00.000Z");
    await a.heartbeat("inst-live", "2005-05-01T00:00:00.000Z", "2099-01-01T00:00:00.000Z");
    const early = session({ user_id: u.id, instance: "inst-gone", started_at: "2005-05-01T06:00:00.000Z" });
    // Started after the last heartbeat: ends at its own start.
    const late = session({ user_id: u.id, instance: "inst-gone", started_at: "2005-05-02T12:00:30.000Z" });
    const live = session({ user_id: u.id, instance: "inst-live", started_at: "2005-05-01T06:00:00.000Z" });
    const orphan = session({
      user_id: u.id,
      instance: "inst-unknown",
      started_at: "2005-05-01T07:00:00.000Z",
    });
    await a.openSessions([early, late, live, orphan]);

    const gone = await a.abandoned("inst-self", "2090-01-01T00:00:00.000Z", false);
    const names = gone.map((g) => g.instance);
    expect(names).toContain("inst-gone");
    expect(names).toContain("inst-unknown");
    expect(names).not.toContain("inst-live");
    expect(gone.find((g) => g.instance === "inst-gone")?.last_seen_at).toBe("2005-05-02T12:00:00.000Z");
    expect(
      (await a.abandoned("inst-self", "2090-01-01T00:00:00.000Z", true)).map((g) => g.instance),
    ).toContain("inst-live");

    expect(await a.closeAbandoned("inst-gone", "2005-05-02T12:00:00.000Z")).toBe(2);
    const e = await a.sessionById(early.id);
    expect([e?.ended_at, Number(e?.duration_ms), e?.recovered]).toEqual([
      "2005-05-02T12:00:00.000Z",
      30 * 3_600_000,
      1,
    ]);
    const l = await a.sessionById(late.id);
    expect([l?.ended_at, Number(l?.duration_ms), l?.recovered]).toEqual([late.started_at, 0, 1]);
    expect(Object.fromEntries(await a.activeByDay("2005-05-01", "2005-05-02"))).toEqual({
      "2005-05-02": 1,
      "2005-05-01": 1,
    });
    expect(
      (await a.abandoned("inst-self", "2090-01-01T00:00:00.000Z", false)).map((g) => g.instance),
    ).not.toContain("inst-gone");
    await a.closeAbandoned("inst-unknown", null);
    await a.closeAbandoned("inst-live", null);
  });

  it("retires an instance, and forgets silent ones with nothing open", async () => {
    const a = repos().analytics;
    await a.heartbeat("inst-retire", "2006-01-01T00:00:00.000Z", "2006-01-01T00:00:00.000Z");
    await a.retire("inst-retire", "2006-01-01T01:00:00.000Z");
    await a.heartbeat("inst-silent", "2006-01-01T00:00:00.000Z", "2006-01-01T00:00:00.000Z");
    await a.forgetSilent("inst-self", "2006-06-01T00:00:00.000Z");
    // Neither comes back as abandoned, and a new heartbeat starts them afresh.
    const names = (await a.abandoned("inst-self", "2090-01-01T00:00:00.000Z", true)).map((g) => g.instance);
    expect(names).not.toContain("inst-retire");
    expect(names).not.toContain("inst-silent");
  });

  it("prunes everything before a day but open sessions", async () => {
    const a = repos().analytics;
    const u = await user();
    const old = session({
      user_id: u.id,
      started_at: "1990-01-01T10:00:00.000Z",
      ended_at: "1990-01-01T11:00:00.000Z",
      duration_ms: 3_600_000,
    });
    const open = session({ user_id: u.id, started_at: "1990-01-01T10:00:00.000Z" });
    await a.recordSession(old);
    await a.openSessions([open]);
    await a.addMessageCounts("1990-01-01", [["ping", 1]]);
    expect(await a.pruneBefore("1995-01-01")).toBeGreaterThanOrEqual(3);
    expect(await a.sessionById(old.id)).toBeUndefined();
    expect(await a.sessionById(open.id)).toBeDefined();
    expect(await a.messageCounts("1990-01-01", "1990-01-01")).toEqual([]);
    expect(await a.distinctActive("1990-01-01", "1990-01-01")).toBe(0);
    await a.closeSessions([{ ...open, ended_at: "1990-01-01T10:00:01.000Z", duration_ms: 1000 }]);
  });

  it("keeps an open session apart until it closes, and counts it in every report meanwhile", async () => {
    const a = repos().analytics;
    const u = await user();
    const openBefore = await a.openSessionCount();
    const day = "2009-09-09";
    const s = session({ user_id: u.id, started_at: `${day}T09:00:00.000Z` });
    const earlier = session({
      user_id: u.id,
      started_at: `${day}T08:00:00.000Z`,
      ended_at: `${day}T08:30:00.000Z`,
      duration_ms: 1_800_000,
    });
    await a.recordSession(earlier);
    await a.openSessions([s]);
    await a.openSessions([s]); // written twice (a retried batch): still one
    expect(await a.openSessionCount()).toBe(openBefore + 1);
    expect(Object.fromEntries(await a.sessionsByDay(day, day))).toEqual({ [day]: 2 });
    expect((await a.sessionsOfUser(u.id)).map((r) => [r.id, r.ended_at])).toEqual([
      [earlier.id, earlier.ended_at],
      [s.id, null],
    ]);

    const closed = { ...s, ended_at: `${day}T10:00:00.000Z`, duration_ms: 3_600_000 };
    await a.closeSessions([closed]);
    expect(await a.openSessionCount()).toBe(openBefore);
    expect(Object.fromEntries(await a.sessionsByDay(day, day))).toEqual({ [day]: 2 });
    const mine = await a.sessionsOfUser(u.id);
    expect(mine.map((r) => [r.id, r.ended_at, r.duration_ms, r.recovered])).toEqual([
      [earlier.id, earlier.ended_at, 1_800_000, false],
      [s.id, closed.ended_at, 3_600_000, false],
    ]);
    expect(await a.averageDurationEndedOn(day)).toBe(2_700_000);
  });

  it("counts users, new users per day and open sessions; a user's rows go with the user", async () => {
    const a = repos().analytics;
    const before = await a.userCount();
    const openBefore = await a.openSessionCount();
    const u = await user({ created_at: "2007-07-07T07:07:07.000Z" });
    expect(await a.userCount()).toBe(before + 1);
    expect(Object.fromEntries(await a.newUsersByDay("2007-07-06", "2007-07-08"))).toEqual({
      "2007-07-07": 1,
    });
    const s = session({ user_id: u.id, started_at: "2007-07-07T08:00:00.000Z" });
    await a.recordSession(s);
    expect(await a.openSessionCount()).toBe(openBefore + 1);
    await repos().personalData.deleteUser(u.id);
    expect(await a.sessionById(s.id)).toBeUndefined();
    expect(await a.distinctActive("2007-07-07", "2007-07-07")).toBe(0);
    expect(await a.openSessionCount()).toBe(openBefore);
  });
}

/** The analytics contract in a database of its own, on one backend. */
export function analyticsRepositoryContract(name: string, open: Open) {
  describe(`analytics repository on ${name}`, () => {
    const { repos, db } = useDatabase(open);
    analyticsContract(repos, newUser);

    it("counts a session once when its process stopped between the two writes of its close", async () => {
      const a = repos().analytics;
      const u = newUser();
      await repos().users.insert(u);
      const day = "2011-11-11";
      const row = {
        id: uuidv7(),
        user_id: u.id,
        device: "desk",
        instance: "inst-stopped",
        started_at: `${day}T10:00:00.000Z`,
      };
      const closed = { ...row, ended_at: `${day}T10:00:09.000Z`, duration_ms: 9000, recovered: 0 };
      const openBefore = await a.openSessionCount();
      await db().insertInto("analytics_open_sessions").values(row).execute();
      await db().insertInto("analytics_sessions").values(closed).execute();
      expect(await a.openSessionCount()).toBe(openBefore);
      expect(Object.fromEntries(await a.sessionsByDay(day, day))).toEqual({ [day]: 1 });
      expect((await a.sessionsOfUser(u.id)).map((r) => r.ended_at)).toEqual([closed.ended_at]);
      // The instance's recovery keeps the close and clears the open row.
      expect(await a.closeAbandoned("inst-stopped", `${day}T12:00:00.000Z`)).toBe(1);
      const kept = await a.sessionById(row.id);
      expect({ ...kept, duration_ms: Number(kept?.duration_ms) }).toEqual(closed);
      expect(
        await db().selectFrom("analytics_open_sessions").selectAll().where("id", "=", row.id).execute(),
      ).toEqual([]);
    });
  });
}
