import { uuidv7 } from "@warren/protocol";
import { describe, expect, it } from "vitest";
import { type Open, useDatabase, violation } from "./fixtures.js";

/** The tenants (communities) repository on every backend. */
export function tenantsContract(name: string, open: Open) {
  describe(`tenants repository on ${name}`, () => {
    const { repos, db, fixtures } = useDatabase(open);

    it("stores a community with its owner as member; sees it as the owner does", async () => {
      const owner = await fixtures().user();
      const t = await fixtures().tenant(owner.id, { description: "d" });
      expect(await repos().tenants.visibleTo(t.id, owner.id)).toEqual({
        ...t,
        role: "owner",
        member_count: 1,
      });
      expect(await repos().tenants.member(t.id, owner.id)).toEqual({
        user_id: owner.id,
        username: owner.username,
        role: "owner",
        joined_at: t.created_at,
      });
      expect(await violation(() => repos().tenants.insert({ ...t }, t.created_at))).toMatch(
        /id|primary|pkey/,
      );
    });

    it("hides a private community from non-members (like a missing one); byIdFor does not", async () => {
      const owner = await fixtures().user();
      const stranger = await fixtures().user();
      const priv = await fixtures().tenant(owner.id, { visibility: "private" });
      const pub = await fixtures().tenant(owner.id);
      expect(await repos().tenants.visibleTo(priv.id, stranger.id)).toBeUndefined();
      expect(await repos().tenants.visibleTo(uuidv7(), stranger.id)).toBeUndefined();
      expect(await repos().tenants.visibleTo(pub.id, stranger.id)).toEqual({
        ...pub,
        role: null,
        member_count: 1,
      });
      expect(await repos().tenants.byIdFor(priv.id, stranger.id)).toEqual({
        ...priv,
        role: null,
        member_count: 1,
      });
      expect(await repos().tenants.byIdFor(uuidv7(), stranger.id)).toBeUndefined();
      await repos().tenants.addMember(priv.id, stranger.id, "member", "2020-01-01T00:00:00.000Z");
      expect(await repos().tenants.visibleTo(priv.id, stranger.id)).toMatchObject({
        role: "member",
        member_count: 2,
      });
    });

    it("lists my communities by name then id, with my role", async () => {
      const me = await fixtures().user();
      const other = await fixtures().user();
      const b = await fixtures().tenant(other.id, { name: `B mine ${me.id}` });
      const a = await fixtures().tenant(me.id, { name: `a mine ${me.id}`, visibility: "private" });
      await fixtures().tenant(other.id, { name: `c not mine ${me.id}` });
      await repos().tenants.addMember(b.id, me.id, "moderator", "2020-01-01T00:00:00.000Z");
      const mine = await repos().tenants.mine(me.id);
      expect(mine.map((t) => [t.id, t.role, t.member_count])).toEqual([
        [a.id, "owner", 1],
        [b.id, "moderator", 2],
      ]);
      expect(await repos().tenants.mine(uuidv7())).toEqual([]);
    });

    it("discovers public communities by name substring (LIKE characters literal), paging by (name_key, id)", async () => {
      const u = await fixtures().user();
      const tag = `zq${u.id.slice(-8)}`;
      const names = [`${tag} alpha`, `${tag} beta`, `${tag}_gamma`, `${tag} delta`];
      const made = [];
      for (const n of names) made.push(await fixtures().tenant(u.id, { name: n }));
      await fixtures().tenant(u.id, { name: `${tag} hidden`, visibility: "private" });
      const sorted = [...made].sort((x, y) => (x.name_key < y.name_key ? -1 : 1));
      const all = await repos().tenants.discover(u.id, { q: tag.toUpperCase(), limit: 10 });
      expect(all.map((t) => t.id)).toEqual(sorted.map((t) => t.id));
      expect(all[0]?.role).toBe("owner");
      const page1 = await repos().tenants.discover(u.id, { q: tag, limit: 2 });
      const last = page1[1];
      if (!last) throw new Error("short page");
      const page2 = await repos().tenants.discover(u.id, { q: tag, limit: 2, after: last });
      expect([...page1, ...page2].map((t) => t.id)).toEqual(sorted.map((t) => t.id));
      // "_" is not a wildcard
      expect((await repos().tenants.discover(u.id, { q: `${tag}_`, limit: 10 })).map((t) => t.name)).toEqual([
        `${tag}_gamma`,
      ]);
      expect(await repos().tenants.discover(u.id, { q: `${tag}%`, limit: 10 })).toEqual([]);
    });

    it("pages members by (joined_at, user_id); adds once, sets roles, finds no stranger", async () => {
      const owner = await fixtures().user();
      const t = await fixtures().tenant(owner.id, { created_at: "2019-01-01T00:00:00.000Z" });
      const [x, y, z] = [await fixtures().user(), await fixtures().user(), await fixtures().user()];
      const same = "2020-01-01T00:00:00.000Z";
      expect(await repos().tenants.addMember(t.id, z.id, "member", "2021-01-01T00:00:00.000Z")).toBe(true);
      expect(await repos().tenants.addMember(t.id, x.id, "member", same)).toBe(true);
      expect(await repos().tenants.addMember(t.id, y.id, "member", same)).toBe(true);
      expect(await repos().tenants.addMember(t.id, y.id, "admin", same)).toBe(false);
      expect((await repos().tenants.member(t.id, y.id))?.role).toBe("member");
      const order = [owner.id, ...[x.id, y.id].sort(), z.id];
      const p1 = await repos().tenants.members(t.id, { limit: 2 });
      const p2 = await repos().tenants.members(t.id, { limit: 2, after: p1[1] });
      expect([...p1, ...p2].map((m) => m.user_id)).toEqual(order);
      expect(await repos().tenants.setRole(t.id, x.id, "admin")).toBe(true);
      expect((await repos().tenants.member(t.id, x.id))?.role).toBe("admin");
      expect(await repos().tenants.setRole(t.id, uuidv7(), "admin")).toBe(false);
      expect(await repos().tenants.member(t.id, uuidv7())).toBeUndefined();
      expect((await repos().tenants.memberIds(t.id)).sort()).toEqual([...order].sort());
    });

    it("removing a member takes their network memberships and peers in that community only", async () => {
      const owner = await fixtures().user();
      const u = await fixtures().user();
      const t = await fixtures().tenant(owner.id);
      const other = await fixtures().tenant(owner.id);
      await repos().tenants.addMember(t.id, u.id, "member", "2020-01-01T00:00:00.000Z");
      await repos().tenants.addMember(other.id, u.id, "member", "2020-01-01T00:00:00.000Z");
      const n1 = await fixtures().network(t.id);
      const n2 = await fixtures().network(other.id);
      await repos().networks.addMember(n1.id, u.id, "active", "2020-01-01T00:00:00.000Z");
      await repos().networks.addMember(n2.id, u.id, "active", "2020-01-01T00:00:00.000Z");
      const d = await fixtures().device(u.id);
      const p1 = await fixtures().peer(n1.id, d.id, u.id, 2);
      const p2 = await fixtures().peer(n2.id, d.id, u.id, 2);
      expect(await repos().tenants.networkIds(t.id)).toEqual([n1.id]);
      expect(await repos().tenants.removeMember(t.id, u.id)).toEqual({
        wasMember: true,
        networks: [n1.id],
        peers: [{ id: p1.id, network_id: n1.id, device_id: d.id }],
      });
      expect(await repos().tenants.member(t.id, u.id)).toBeUndefined();
      expect(await repos().networks.status(n2.id, u.id)).toBe("active");
      expect((await repos().peers.get(p2.id))?.id).toBe(p2.id);
      expect(await repos().tenants.removeMember(t.id, u.id)).toEqual({
        wasMember: false,
        networks: [],
        peers: [],
      });
    });

    it("bans: in force until the end, re-ban replaces, unban lifts only a ban in force", async () => {
      const owner = await fixtures().user();
      const u = await fixtures().user();
      const v = await fixtures().user();
      const t = await fixtures().tenant(owner.id);
      const now = "2030-01-01T00:00:00.000Z";
      const ban = {
        tenant_id: t.id,
        user_id: u.id,
        reason: "spam",
        until: null,
        by_id: owner.id,
        created_at: "2029-01-01T00:00:00.000Z",
      };
      await repos().tenants.ban(ban);
      await repos().tenants.ban({
        ...ban,
        user_id: v.id,
        reason: null,
        until: "2031-01-01T00:00:00.000Z",
        created_at: "2029-06-01T00:00:00.000Z",
      });
      expect(await repos().tenants.banInForce(t.id, u.id, now)).toEqual({ reason: "spam", until: null });
      expect((await repos().tenants.bans(t.id, now)).map((b) => [b.user_id, b.username])).toEqual([
        [v.id, v.username],
        [u.id, u.username],
      ]);
      await repos().tenants.ban({ ...ban, reason: "again", until: "2029-12-01T00:00:00.000Z" });
      expect(await repos().tenants.banInForce(t.id, u.id, now)).toBeUndefined();
      expect(await repos().tenants.unban(t.id, u.id, now)).toBe(false);
      expect(await repos().tenants.unban(t.id, v.id, now)).toBe(true);
      expect(await repos().tenants.bans(t.id, now)).toEqual([]);
    });

    it("updates one community; delete cascades to members, networks, bans and invites", async () => {
      const owner = await fixtures().user();
      const t = await fixtures().tenant(owner.id);
      const keep = await fixtures().tenant(owner.id);
      await repos().tenants.update(t.id, { description: "new", visibility: "private" });
      expect(await repos().tenants.byIdFor(t.id, owner.id)).toMatchObject({
        description: "new",
        visibility: "private",
      });
      expect((await repos().tenants.byIdFor(keep.id, owner.id))?.description).toBe("");
      const n = await fixtures().network(t.id);
      expect(await repos().tenants.delete(t.id)).toBe(true);
      expect(await repos().tenants.delete(t.id)).toBe(false);
      expect(await repos().tenants.memberIds(t.id)).toEqual([]);
      expect(await repos().tenants.networkIds(t.id)).toEqual([]);
      expect(await db().selectFrom("networks").select("id").where("id", "=", n.id).execute()).toEqual([]);
      expect(await repos().tenants.memberIds(keep.id)).toEqual([owner.id]);
    });
  });
}
