import { uuidv7 } from "@warren/protocol";
import { describe, expect, it } from "vitest";
import { type Open, useDatabase, violation } from "./fixtures.js";
import type { RoomRow } from "./rooms.js";

/** The rooms repository on every backend. Cases that count rooms run first. */
export function roomsContract(name: string, open: Open) {
  describe(`rooms repository on ${name}`, () => {
    const { repos, db, fixtures } = useDatabase(open);
    const room = (ownerId: string, over: Partial<RoomRow> = {}): RoomRow => ({
      id: uuidv7(),
      name: "room",
      password_hash: null,
      owner_id: ownerId,
      owner_key: null,
      max_members: 8,
      persistent: 0,
      created_at: "2020-01-01T00:00:00.000Z",
      last_activity_at: "2020-01-01T00:00:00.000Z",
      ...over,
    });

    it("counts rooms and deletes the non-persistent ones only", async () => {
      const u = await fixtures().user();
      expect(await repos().rooms.count()).toBe(0);
      const keep = room(u.id, { persistent: 1 });
      for (const r of [room(u.id), room(u.id), keep]) await repos().rooms.insert(r);
      expect(await repos().rooms.count()).toBe(3);
      expect(await repos().rooms.deleteNonPersistent()).toBe(2);
      expect(await repos().rooms.count()).toBe(1);
      expect(await repos().rooms.byId(keep.id)).toEqual(keep);
      expect(await repos().rooms.deleteNonPersistent()).toBe(0);
      expect(await repos().rooms.delete(keep.id)).toBe(true);
    });

    it("stores a room and reads it by id and by ids (in id order); absent ids find nothing", async () => {
      const u = await fixtures().user();
      const a = room(u.id, { name: "a", password_hash: "ph", owner_key: "ok" });
      const b = room(u.id, { name: "b" });
      await repos().rooms.insert(a);
      await repos().rooms.insert(b);
      expect(await repos().rooms.byId(a.id)).toEqual(a);
      expect(await repos().rooms.byId(uuidv7())).toBeUndefined();
      expect(await repos().rooms.byIds([b.id, uuidv7(), a.id])).toEqual(
        [a, b].sort((x, y) => x.id.localeCompare(y.id)),
      );
      expect(await repos().rooms.byIds([])).toEqual([]);
      expect(await violation(() => repos().rooms.insert({ ...a }))).toMatch(/id|primary|pkey/);
    });

    it("updates and deletes one room, false when absent", async () => {
      const u = await fixtures().user();
      const a = room(u.id);
      await repos().rooms.insert(a);
      expect(await repos().rooms.update(a.id, { name: "renamed", max_members: 3 })).toBe(true);
      expect(await repos().rooms.byId(a.id)).toEqual({ ...a, name: "renamed", max_members: 3 });
      expect(await repos().rooms.update(uuidv7(), { name: "x" })).toBe(false);
      expect(await repos().rooms.delete(a.id)).toBe(true);
      expect(await repos().rooms.delete(a.id)).toBe(false);
      expect(await repos().rooms.byId(a.id)).toBeUndefined();
    });

    it("lists idle rooms oldest activity first, before the cut only, up to the limit", async () => {
      const u = await fixtures().user();
      const r1 = room(u.id, { last_activity_at: "1999-01-03T00:00:00.000Z" });
      const r2 = room(u.id, { last_activity_at: "1999-01-01T00:00:00.000Z" });
      const r3 = room(u.id, { last_activity_at: "1999-01-02T00:00:00.000Z" });
      const fresh = room(u.id, { last_activity_at: "1999-02-01T00:00:00.000Z" });
      for (const r of [r1, r2, r3, fresh]) await repos().rooms.insert(r);
      const cut = "1999-02-01T00:00:00.000Z";
      expect((await repos().rooms.idleSince(cut)).map((r) => r.id)).toEqual([r2.id, r3.id, r1.id]);
      expect((await repos().rooms.idleSince(cut, 2)).map((r) => r.id)).toEqual([r2.id, r3.id]);
      expect(await repos().rooms.idleSince("1998-01-01T00:00:00.000Z")).toEqual([]);
    });

    it("bans until a time, re-banning moves the end; only bans in force answer", async () => {
      const owner = await fixtures().user();
      const u = await fixtures().user();
      const r = room(owner.id);
      await repos().rooms.insert(r);
      const now = "2030-01-01T00:00:00.000Z";
      expect(await repos().rooms.bannedUntil(r.id, u.id, now)).toBeUndefined();
      await repos().rooms.ban(r.id, u.id, "2030-01-02T00:00:00.000Z", owner.id);
      expect(await repos().rooms.bannedUntil(r.id, u.id, now)).toBe("2030-01-02T00:00:00.000Z");
      expect(await repos().rooms.bannedUntil(r.id, owner.id, now)).toBeUndefined();
      await repos().rooms.ban(r.id, u.id, "2029-12-31T00:00:00.000Z", owner.id);
      expect(await repos().rooms.bannedUntil(r.id, u.id, now)).toBeUndefined();
      const rows = await db().selectFrom("room_bans").selectAll().where("room_id", "=", r.id).execute();
      expect(rows).toHaveLength(1);
      // the end is exclusive
      expect(await repos().rooms.bannedUntil(r.id, u.id, "2029-12-31T00:00:00.000Z")).toBeUndefined();
    });

    it("goes with its owner, and its bans with it (cascade)", async () => {
      const owner = await fixtures().user();
      const u = await fixtures().user();
      const r = room(owner.id);
      await repos().rooms.insert(r);
      await repos().rooms.ban(r.id, u.id, "2999-01-01T00:00:00.000Z", owner.id);
      await db().deleteFrom("users").where("id", "=", owner.id).execute();
      expect(await repos().rooms.byId(r.id)).toBeUndefined();
      expect(await repos().rooms.bannedUntil(r.id, u.id, "2000-01-01T00:00:00.000Z")).toBeUndefined();
      await expect(repos().rooms.insert(room(uuidv7()))).rejects.toThrow();
    });
  });
}
