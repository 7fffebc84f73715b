import { uuidv7 } from "@warren/protocol";
import { describe, expect, it } from "vitest";
import { type Open, useDatabase, violation } from "./fixtures.js";
import type { NetworkBanRow } from "./networks.js";

/** The networks repository (networks, members, bans) on every backend. */
export function networksContract(name: string, open: Open) {
  describe(`networks repository on ${name}`, () => {
    const { repos, fixtures } = useDatabase(open);
    const NOW = "2030-01-01T00:00:00.000Z";
    const setup = async () => {
      const owner = await fixtures().user();
      const tenant = await fixtures().tenant(owner.id);
      return { owner, tenant };
    };

    it("views a network with the caller's standing; outsiders find nothing, like a random id", async () => {
      const { owner, tenant } = await setup();
      const member = await fixtures().user();
      const outsider = await fixtures().user();
      await repos().tenants.addMember(tenant.id, member.id, "member", NOW);
      const net = await fixtures().network(tenant.id);
      await repos().networks.addMember(net.id, owner.id, "active", NOW);
      await repos().networks.addMember(net.id, member.id, "pending", NOW);
      expect(await repos().networks.viewFor(net.id, owner.id)).toEqual({
        ...net,
        role: "owner",
        my_status: "active",
        member_count: 1,
      });
      expect(await repos().networks.viewFor(net.id, member.id)).toMatchObject({
        role: "member",
        my_status: "pending",
      });
      expect(await repos().networks.viewFor(net.id, outsider.id)).toBeUndefined();
      expect(await repos().networks.viewFor(uuidv7(), owner.id)).toBeUndefined();
      expect(await violation(() => repos().networks.insert({ ...net }))).toMatch(/id|primary|pkey/);
    });

    it("lists a community's networks by id for members only; cidrsOf leaves one out", async () => {
      const { owner, tenant } = await setup();
      const outsider = await fixtures().user();
      const a = await fixtures().network(tenant.id, { cidr: "10.1.0.0/24" });
      const b = await fixtures().network(tenant.id, { cidr: "10.2.0.0/24" });
      const list = await repos().networks.listFor(tenant.id, owner.id);
      expect(list.map((n) => [n.id, n.my_status, n.member_count])).toEqual([
        [a.id, null, 0],
        [b.id, null, 0],
      ]);
      expect(await repos().networks.listFor(tenant.id, outsider.id)).toEqual([]);
      const cidrs = await repos().networks.cidrsOf(tenant.id);
      expect(cidrs.sort((x, y) => x.id.localeCompare(y.id))).toEqual([
        { id: a.id, name: a.name, cidr: "10.1.0.0/24" },
        { id: b.id, name: b.name, cidr: "10.2.0.0/24" },
      ]);
      expect(await repos().networks.cidrsOf(tenant.id, a.id)).toEqual([
        { id: b.id, name: b.name, cidr: "10.2.0.0/24" },
      ]);
    });

    it("updates and deletes one network; members go with it (cascade)", async () => {
      const { owner, tenant } = await setup();
      const a = await fixtures().network(tenant.id);
      const b = await fixtures().network(tenant.id);
      await repos().networks.update(a.id, { name: "renamed", join_policy: "approval" });
      expect(await repos().networks.viewFor(a.id, owner.id)).toMatchObject({
        name: "renamed",
        join_policy: "approval",
      });
      expect((await repos().networks.viewFor(b.id, owner.id))?.name).toBe(b.name);
      await repos().networks.addMember(a.id, owner.id, "active", NOW);
      await repos().networks.delete(a.id);
      expect(await repos().networks.viewFor(a.id, owner.id)).toBeUndefined();
      expect(await repos().networks.status(a.id, owner.id)).toBeUndefined();
    });

    it("adds a member once, activates only pending, removes by status or any", async () => {
      const { tenant } = await setup();
      const net = await fixtures().network(tenant.id);
      const u = await fixtures().user();
      expect(await repos().networks.addMember(net.id, u.id, "pending", NOW)).toBe(true);
      expect(await repos().networks.addMember(net.id, u.id, "active", NOW)).toBe(false);
      expect(await repos().networks.status(net.id, u.id)).toBe("pending");
      expect(await repos().networks.activeMemberIds(net.id)).toEqual([]);
      expect(await repos().networks.removeMember(net.id, u.id, "active")).toBe(false);
      expect(await repos().networks.activate(net.id, u.id, "2031-01-01T00:00:00.000Z")).toBe(true);
      expect(await repos().networks.activate(net.id, u.id, NOW)).toBe(false);
      expect(await repos().networks.activeMemberIds(net.id)).toEqual([u.id]);
      expect(await repos().networks.removeMember(net.id, u.id, "pending")).toBe(false);
      expect(await repos().networks.removeMember(net.id, u.id)).toBe(true);
      expect(await repos().networks.removeMember(net.id, u.id)).toBe(false);
      expect(await repos().networks.status(net.id, u.id)).toBeUndefined();
    });

    it("lists members by join time then id, with role; pending only on request", async () => {
      const { owner, tenant } = await setup();
      const net = await fixtures().network(tenant.id);
      const [x, y, p] = [await fixtures().user(), await fixtures().user(), await fixtures().user()];
      for (const u of [x, y, p]) await repos().tenants.addMember(tenant.id, u.id, "member", NOW);
      await repos().tenants.setRole(tenant.id, y.id, "moderator");
      await repos().networks.addMember(net.id, owner.id, "active", "2030-01-03T00:00:00.000Z");
      await repos().networks.addMember(net.id, x.id, "active", "2030-01-02T00:00:00.000Z");
      await repos().networks.addMember(net.id, y.id, "active", "2030-01-02T00:00:00.000Z");
      await repos().networks.addMember(net.id, p.id, "pending", "2030-01-01T00:00:00.000Z");
      const active = await repos().networks.members(net.id, false);
      expect(active.map((m) => m.user_id)).toEqual([...[x.id, y.id].sort(), owner.id]);
      expect(active.find((m) => m.user_id === y.id)).toEqual({
        user_id: y.id,
        username: y.username,
        role: "moderator",
        status: "active",
        joined_at: "2030-01-02T00:00:00.000Z",
      });
      const all = await repos().networks.members(net.id, true);
      expect(all[0]).toMatchObject({ user_id: p.id, status: "pending" });
      expect(all).toHaveLength(4);
      expect((await repos().networks.viewFor(net.id, x.id))?.member_count).toBe(3);
    });

    it("lists the community's moderators and up, with their network status", async () => {
      const { owner, tenant } = await setup();
      const net = await fixtures().network(tenant.id);
      const [mod, adm, plain] = [await fixtures().user(), await fixtures().user(), await fixtures().user()];
      await repos().tenants.addMember(tenant.id, mod.id, "moderator", NOW);
      await repos().tenants.addMember(tenant.id, adm.id, "admin", NOW);
      await repos().tenants.addMember(tenant.id, plain.id, "member", NOW);
      await repos().networks.addMember(net.id, mod.id, "pending", NOW);
      await repos().networks.addMember(net.id, adm.id, "active", NOW);
      const mods = await repos().networks.moderators(net.id);
      expect(mods.sort((a, b) => a.user_id.localeCompare(b.user_id))).toEqual(
        [
          { user_id: owner.id, role: "owner", status: null },
          { user_id: mod.id, role: "moderator", status: "pending" },
          { user_id: adm.id, role: "admin", status: "active" },
        ].sort((a, b) => a.user_id.localeCompare(b.user_id)),
      );
      expect(await repos().networks.moderators(uuidv7())).toEqual([]);
    });

    it("bans: in force without end or until later; newest first; re-ban replaces; unban once", async () => {
      const { owner, tenant } = await setup();
      const net = await fixtures().network(tenant.id);
      const [a, b, c] = [await fixtures().user(), await fixtures().user(), await fixtures().user()];
      const ban = (userId: string, over: Partial<NetworkBanRow> = {}): NetworkBanRow => ({
        network_id: net.id,
        user_id: userId,
        reason: null,
        until: null,
        by_id: owner.id,
        created_at: "2029-01-01T00:00:00.000Z",
        ...over,
      });
      await repos().networks.ban(ban(a.id, { reason: "r" }));
      await repos().networks.ban(
        ban(b.id, { until: "2031-01-01T00:00:00.000Z", created_at: "2029-02-01T00:00:00.000Z" }),
      );
      await repos().networks.ban(ban(c.id, { until: NOW }));
      expect((await repos().networks.bansInForce(net.id, NOW)).map((x) => x.user_id)).toEqual([b.id, a.id]);
      expect(await repos().networks.banInForce(net.id, a.id, NOW)).toEqual(ban(a.id, { reason: "r" }));
      expect(await repos().networks.banInForce(net.id, c.id, NOW)).toBeUndefined();
      await repos().networks.ban(ban(a.id, { until: "2029-12-31T00:00:00.000Z", reason: "shorter" }));
      expect(await repos().networks.banInForce(net.id, a.id, NOW)).toBeUndefined();
      expect(await repos().networks.unban(net.id, b.id)).toBe(true);
      expect(await repos().networks.unban(net.id, b.id)).toBe(false);
      expect(await repos().networks.bansInForce(net.id, NOW)).toEqual([]);
    });

    it("refuses a network of an unknown community and a member who is no user", async () => {
      const { tenant } = await setup();
      await expect(fixtures().network(uuidv7())).rejects.toThrow();
      const net = await fixtures().network(tenant.id);
      await expect(repos().networks.addMember(net.id, uuidv7(), "active", NOW)).rejects.toThrow();
    });
  });
}
