import { uuidv7 } from "@warren/protocol";
import { describe, expect, it } from "vitest";
import { type Open, useDatabase, violation } from "./fixtures.js";
import type { InviteRow } from "./invites.js";

/** The invites repository on every backend. */
export function invitesContract(name: string, open: Open) {
  describe(`invites repository on ${name}`, () => {
    const { repos, db, fixtures } = useDatabase(open);
    const NOW = "2030-01-01T00:00:00.000Z";
    const invite = (tenantId: string, by: string, over: Partial<InviteRow> = {}): InviteRow => ({
      id: uuidv7(),
      code: `code-${uuidv7()}`,
      tenant_id: tenantId,
      network_id: null,
      role: null,
      max_uses: null,
      uses: 0,
      expires_at: null,
      revoked_at: null,
      created_by: by,
      created_at: "2029-01-01T00:00:00.000Z",
      ...over,
    });
    const setup = async () => {
      const owner = await fixtures().user();
      const tenant = await fixtures().tenant(owner.id);
      return { owner, tenant };
    };

    it("lists a community's invites newest first (then by id), and refuses a repeated code", async () => {
      const { owner, tenant } = await setup();
      const a = invite(tenant.id, owner.id, { created_at: "2029-01-01T00:00:00.000Z" });
      const b = invite(tenant.id, owner.id, {
        created_at: "2029-02-01T00:00:00.000Z",
        role: "moderator",
        max_uses: 5,
      });
      await repos().invites.insert(a);
      await repos().invites.insert(b);
      expect(await repos().invites.list(tenant.id)).toEqual([b, a]);
      expect(await repos().invites.list(uuidv7())).toEqual([]);
      expect(
        await violation(() => repos().invites.insert(invite(tenant.id, owner.id, { code: a.code }))),
      ).toMatch(/code/);
    });

    it("answers a usable code only: not revoked, not used up, not expired", async () => {
      const { owner, tenant } = await setup();
      const ok = invite(tenant.id, owner.id, {
        max_uses: 2,
        uses: 1,
        expires_at: "2031-01-01T00:00:00.000Z",
      });
      const usedUp = invite(tenant.id, owner.id, { max_uses: 1, uses: 1 });
      const expired = invite(tenant.id, owner.id, { expires_at: NOW });
      const revoked = invite(tenant.id, owner.id, { revoked_at: "2029-06-01T00:00:00.000Z" });
      for (const i of [ok, usedUp, expired, revoked]) await repos().invites.insert(i);
      expect(await repos().invites.usable(ok.code, NOW)).toEqual(ok);
      for (const i of [usedUp, expired, revoked])
        expect(await repos().invites.usable(i.code, NOW)).toBeUndefined();
      expect(await repos().invites.usable("no-such-code", NOW)).toBeUndefined();
    });

    it("consumes up to max_uses, even when raced; unlimited invites count on", async () => {
      const { owner, tenant } = await setup();
      const two = invite(tenant.id, owner.id, { max_uses: 2 });
      const unlimited = invite(tenant.id, owner.id);
      await repos().invites.insert(two);
      await repos().invites.insert(unlimited);
      const race = await Promise.all([1, 2, 3, 4].map(() => repos().invites.consume(two.id, NOW)));
      expect(race.filter(Boolean)).toHaveLength(2);
      expect((await repos().invites.list(tenant.id)).find((i) => i.id === two.id)?.uses).toBe(2);
      for (let i = 0; i < 3; i++) expect(await repos().invites.consume(unlimited.id, NOW)).toBe(true);
      expect((await repos().invites.usable(unlimited.code, NOW))?.uses).toBe(3);
      expect(await repos().invites.consume(uuidv7(), NOW)).toBe(false);
    });

    it("revokes within its community only; a repeat keeps the first time", async () => {
      const { owner, tenant } = await setup();
      const other = await fixtures().tenant(owner.id);
      const i = invite(tenant.id, owner.id);
      await repos().invites.insert(i);
      expect(await repos().invites.revoke(other.id, i.id, NOW)).toBe(false);
      expect(await repos().invites.revoke(tenant.id, i.id, NOW)).toBe(true);
      expect(await repos().invites.revoke(tenant.id, i.id, "2031-01-01T00:00:00.000Z")).toBe(true);
      expect((await repos().invites.list(tenant.id))[0]?.revoked_at).toBe(NOW);
      expect(await repos().invites.consume(i.id, NOW)).toBe(false);
      expect(await repos().invites.revoke(tenant.id, uuidv7(), NOW)).toBe(false);
    });

    it("finds a network of this community only, and a network ban in force", async () => {
      const { owner, tenant } = await setup();
      const other = await fixtures().tenant(owner.id);
      const net = await fixtures().network(tenant.id, { required_role: "moderator" });
      expect(await repos().invites.networkOf(tenant.id, net.id)).toEqual({
        id: net.id,
        required_role: "moderator",
      });
      expect(await repos().invites.networkOf(other.id, net.id)).toBeUndefined();
      const u = await fixtures().user();
      expect(await repos().invites.networkBanInForce(net.id, u.id, NOW)).toBe(false);
      const ban = {
        network_id: net.id,
        user_id: u.id,
        reason: null,
        until: null,
        by_id: owner.id,
        created_at: NOW,
      };
      await repos().networks.ban(ban);
      expect(await repos().invites.networkBanInForce(net.id, u.id, NOW)).toBe(true);
      await repos().networks.ban({ ...ban, until: NOW });
      expect(await repos().invites.networkBanInForce(net.id, u.id, NOW)).toBe(false);
    });

    it("activates a network member: new or pending becomes active; already active is false", async () => {
      const { tenant } = await setup();
      const net = await fixtures().network(tenant.id);
      const fresh = await fixtures().user();
      const pending = await fixtures().user();
      await repos().networks.addMember(net.id, pending.id, "pending", "2020-01-01T00:00:00.000Z");
      expect(await repos().invites.activateNetworkMember(net.id, fresh.id, NOW)).toBe(true);
      expect(await repos().invites.activateNetworkMember(net.id, pending.id, NOW)).toBe(true);
      expect(await repos().invites.activateNetworkMember(net.id, pending.id, NOW)).toBe(false);
      expect(await repos().networks.status(net.id, fresh.id)).toBe("active");
      expect(await repos().networks.status(net.id, pending.id)).toBe("active");
      expect((await repos().networks.activeMemberIds(net.id)).sort()).toEqual([fresh.id, pending.id].sort());
    });

    it("goes with its community (cascade) and with its network", async () => {
      const { owner, tenant } = await setup();
      const net = await fixtures().network(tenant.id);
      const viaNet = invite(tenant.id, owner.id, { network_id: net.id });
      await repos().invites.insert(viaNet);
      await repos().networks.delete(net.id);
      expect(await repos().invites.list(tenant.id)).toEqual([]);
      await repos().invites.insert(invite(tenant.id, owner.id));
      await repos().tenants.delete(tenant.id);
      expect(
        await db().selectFrom("invites").select("id").where("tenant_id", "=", tenant.id).execute(),
      ).toEqual([]);
    });
  });
}
