import { uuidv7 } from "@warren/protocol";
import { describe, expect, it } from "vitest";
import { newUser, now, type Open, useDatabase } from "./fixtures.js";

/** The recovery codes repository on every backend. */
export function recoveryCodesContract(name: string, open: Open) {
  describe(`recovery codes repository on ${name}`, () => {
    const { repos, db, fixtures } = useDatabase(open);
    const codes = (userId: string, hashes: string[]) =>
      hashes.map((h) => ({ id: uuidv7(), user_id: userId, code_hash: h, used_at: null }));

    it("uses each recovery code once", async () => {
      const u = newUser();
      await repos().users.insert(u);
      await repos().recoveryCodes.replace(
        u.id,
        ["a", "b"].map((h) => ({ id: uuidv7(), user_id: u.id, code_hash: h, used_at: null })),
      );
      expect(await repos().recoveryCodes.countUnused(u.id)).toBe(2);
      const race = await Promise.all([1, 2].map(() => repos().recoveryCodes.consume(u.id, "a", now())));
      expect(race.filter(Boolean)).toHaveLength(1);
      expect(await repos().recoveryCodes.consume(u.id, "zzz", now())).toBe(false);
      expect(await repos().recoveryCodes.countUnused(u.id)).toBe(1);
      await repos().recoveryCodes.deleteAll(u.id);
      expect(await repos().recoveryCodes.countUnused(u.id)).toBe(0);
    });

    it("replaces the whole set, used codes included, and only the user's", async () => {
      const u = await fixtures().user();
      const other = await fixtures().user();
      await repos().recoveryCodes.replace(u.id, codes(u.id, ["a", "b", "c"]));
      await repos().recoveryCodes.replace(other.id, codes(other.id, ["a"]));
      expect(await repos().recoveryCodes.consume(u.id, "a", now())).toBe(true);
      await repos().recoveryCodes.replace(u.id, codes(u.id, ["x", "y"]));
      expect(await repos().recoveryCodes.countUnused(u.id)).toBe(2);
      expect(await repos().recoveryCodes.consume(u.id, "b", now())).toBe(false);
      expect(await repos().recoveryCodes.consume(u.id, "x", now())).toBe(true);
      expect(await repos().recoveryCodes.countUnused(other.id)).toBe(1);
      await repos().recoveryCodes.replace(u.id, []);
      expect(await repos().recoveryCodes.countUnused(u.id)).toBe(0);
      expect(await repos().recoveryCodes.countUnused(other.id)).toBe(1);
    });

    it("does not take another user's code, and keeps the old set when the new one is refused", async () => {
      const u = await fixtures().user();
      const other = await fixtures().user();
      await repos().recoveryCodes.replace(u.id, codes(u.id, ["mine"]));
      expect(await repos().recoveryCodes.consume(other.id, "mine", now())).toBe(false);
      // (user, code_hash) is unique: a set with a repeat is refused as a whole
      await expect(repos().recoveryCodes.replace(u.id, codes(u.id, ["d", "d"]))).rejects.toThrow();
      expect(await repos().recoveryCodes.countUnused(u.id)).toBe(1);
      expect(await repos().recoveryCodes.countUnused(uuidv7())).toBe(0);
    });

    it("goes with its user (cascade)", async () => {
      const u = await fixtures().user();
      await repos().recoveryCodes.replace(u.id, codes(u.id, ["a"]));
      await db().deleteFrom("users").where("id", "=", u.id).execute();
      const left = await db().selectFrom("recovery_codes").select("id").where("user_id", "=", u.id).execute();
      expect(left).toEqual([]);
    });
  });
}
