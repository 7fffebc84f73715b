import { uuidv7 } from "@warren/protocol";
import { describe, expect, it } from "vitest";
import { newUser, now, type Open, useDatabase } from "./fixtures.js";

/** The sign-in challenges repository on every backend. */
export function challengesContract(name: string, open: Open) {
  describe(`challenges repository on ${name}`, () => {
    const { repos, db, fixtures } = useDatabase(open);

    it("consumes a challenge once and never after expiry", async () => {
      const u = newUser();
      await repos().users.insert(u);
      const live = {
        id: uuidv7(),
        user_id: u.id,
        challenge: "c",
        expires_at: new Date(Date.now() + 60_000).toISOString(),
        used_at: null,
      };
      const dead = { ...live, id: uuidv7(), expires_at: new Date(Date.now() - 1000).toISOString() };
      await repos().challenges.insert(live);
      await repos().challenges.insert(dead);
      const race = await Promise.all([1, 2, 3].map(() => repos().challenges.consume(live.id, now())));
      expect(race.filter(Boolean)).toHaveLength(1);
      expect(race.find(Boolean)?.user_id).toBe(u.id);
      expect(await repos().challenges.consume(dead.id, now())).toBeUndefined();
      expect(await repos().challenges.purge(now())).toBeGreaterThanOrEqual(1);
    });

    it("returns the consumed row with its use time; an absent id gives undefined", async () => {
      const u = await fixtures().user();
      const row = {
        id: uuidv7(),
        user_id: u.id,
        challenge: "xyz",
        expires_at: "2999-01-01T00:00:00.000Z",
        used_at: null,
      };
      await repos().challenges.insert(row);
      const at = "2030-05-05T00:00:00.000Z";
      expect(await repos().challenges.consume(row.id, at)).toEqual({ ...row, used_at: at });
      expect(await repos().challenges.consume(uuidv7(), at)).toBeUndefined();
      // expiry is exclusive: at the very instant of expiry it is gone
      const edge = { ...row, id: uuidv7(), expires_at: "2031-01-01T00:00:00.000Z" };
      await repos().challenges.insert(edge);
      expect(await repos().challenges.consume(edge.id, edge.expires_at)).toBeUndefined();
    });

    it("purges exactly the challenges that expired before the cut, used or not", async () => {
      const u = await fixtures().user();
      const mk = (expires_at: string, used_at: string | null = null) => ({
        id: uuidv7(),
        user_id: u.id,
        challenge: "p",
        expires_at,
        used_at,
      });
      const old = mk("1990-01-01T00:00:00.000Z");
      const oldUsed = mk("1990-01-02T00:00:00.000Z", "1990-01-01T00:00:00.000Z");
      const atCut = mk("1995-01-01T00:00:00.000Z");
      const later = mk("2999-01-01T00:00:00.000Z");
      for (const r of [old, oldUsed, atCut, later]) await repos().challenges.insert(r);
      expect(await repos().challenges.purge("1995-01-01T00:00:00.000Z")).toBe(2);
      const left = await db()
        .selectFrom("auth_challenges")
        .select("id")
        .where("user_id", "=", u.id)
        .execute();
      expect(left.map((r) => r.id).sort()).toEqual([atCut.id, later.id].sort());
      expect(await repos().challenges.purge("1995-01-01T00:00:00.000Z")).toBe(0);
    });

    it("goes with its user (cascade), and refuses a duplicate id", async () => {
      const u = await fixtures().user();
      const row = {
        id: uuidv7(),
        user_id: u.id,
        challenge: "c",
        expires_at: "2999-01-01T00:00:00.000Z",
        used_at: null,
      };
      await repos().challenges.insert(row);
      await expect(repos().challenges.insert({ ...row })).rejects.toThrow();
      await db().deleteFrom("users").where("id", "=", u.id).execute();
      expect(await repos().challenges.consume(row.id, now())).toBeUndefined();
    });
  });
}
