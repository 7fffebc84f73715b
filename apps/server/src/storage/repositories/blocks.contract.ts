import { uuidv7 } from "@warren/protocol";
import { describe, expect, it } from "vitest";
import { type Open, useDatabase } from "./fixtures.js";

/** The blocks repository on every backend. */
export function blocksContract(name: string, open: Open) {
  describe(`blocks repository on ${name}`, () => {
    const { repos, db, fixtures } = useDatabase(open);

    it("adds a block once; a repeat keeps the first time and says so", async () => {
      const a = await fixtures().user();
      const b = await fixtures().user();
      const t1 = "2020-01-01T00:00:00.000Z";
      expect(await repos().blocks.add(a.id, b.id, t1)).toEqual({ created: true, created_at: t1 });
      expect(await repos().blocks.add(a.id, b.id, "2021-01-01T00:00:00.000Z")).toEqual({
        created: false,
        created_at: t1,
      });
      expect(await repos().blocks.list(a.id)).toEqual([
        { user_id: b.id, username: b.username, created_at: t1 },
      ]);
    });

    it("tells a block either way, and only between the two", async () => {
      const a = await fixtures().user();
      const b = await fixtures().user();
      const c = await fixtures().user();
      expect(await repos().blocks.eitherWay(a.id, b.id)).toBe(false);
      await repos().blocks.add(a.id, b.id, "2020-01-01T00:00:00.000Z");
      expect(await repos().blocks.eitherWay(a.id, b.id)).toBe(true);
      expect(await repos().blocks.eitherWay(b.id, a.id)).toBe(true);
      expect(await repos().blocks.eitherWay(a.id, c.id)).toBe(false);
      expect(await repos().blocks.eitherWay(c.id, b.id)).toBe(false);
      // b's list is its own blocks, not who blocked b
      expect(await repos().blocks.list(b.id)).toEqual([]);
    });

    it("lists oldest block first, then by blocked id, with current usernames", async () => {
      const a = await fixtures().user();
      const [x, y, z] = [await fixtures().user(), await fixtures().user(), await fixtures().user()];
      await repos().blocks.add(a.id, z.id, "2020-03-01T00:00:00.000Z");
      await repos().blocks.add(a.id, x.id, "2020-01-01T00:00:00.000Z");
      await repos().blocks.add(a.id, y.id, "2020-01-01T00:00:00.000Z");
      await repos().users.update(z.id, { username: `renamed_${z.id.slice(-6)}` });
      const list = await repos().blocks.list(a.id);
      expect(list.map((r) => r.user_id)).toEqual([...[x.id, y.id].sort(), z.id]);
      expect(list[2]?.username).toBe(`renamed_${z.id.slice(-6)}`);
    });

    it("removes a block once; removing an absent block is false", async () => {
      const a = await fixtures().user();
      const b = await fixtures().user();
      await repos().blocks.add(a.id, b.id, "2020-01-01T00:00:00.000Z");
      expect(await repos().blocks.remove(b.id, a.id)).toBe(false);
      expect(await repos().blocks.remove(a.id, b.id)).toBe(true);
      expect(await repos().blocks.remove(a.id, b.id)).toBe(false);
      expect(await repos().blocks.eitherWay(a.id, b.id)).toBe(false);
    });

    it("refuses a block of an unknown user, and goes with either user (cascade)", async () => {
      const a = await fixtures().user();
      const b = await fixtures().user();
      await expect(repos().blocks.add(a.id, uuidv7(), "2020-01-01T00:00:00.000Z")).rejects.toThrow();
      await repos().blocks.add(a.id, b.id, "2020-01-01T00:00:00.000Z");
      await db().deleteFrom("users").where("id", "=", b.id).execute();
      expect(await repos().blocks.list(a.id)).toEqual([]);
      const left = await db()
        .selectFrom("user_blocks")
        .select("user_id")
        .where("user_id", "=", a.id)
        .execute();
      expect(left).toEqual([]);
    });
  });
}
