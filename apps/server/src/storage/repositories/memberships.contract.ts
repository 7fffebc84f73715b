import { uuidv7 } from "@warren/protocol";
import { describe, expect, it } from "vitest";
import { type Open, useDatabase } from "./fixtures.js";

/** The memberships repository (read-only) on every backend. */
export function membershipsContract(name: string, open: Open) {
  describe(`memberships repository on ${name}`, () => {
    const { repos, fixtures } = useDatabase(open);
    const NOW = "2030-01-01T00:00:00.000Z";

    it("answers roles and network status, undefined for strangers and absent ids", async () => {
      const owner = await fixtures().user();
      const u = await fixtures().user();
      const t = await fixtures().tenant(owner.id);
      const net = await fixtures().network(t.id);
      await repos().tenants.addMember(t.id, u.id, "moderator", NOW);
      await repos().networks.addMember(net.id, u.id, "pending", NOW);
      expect(await repos().memberships.tenantRole(t.id, owner.id)).toBe("owner");
      expect(await repos().memberships.tenantRole(t.id, u.id)).toBe("moderator");
      expect(await repos().memberships.tenantRole(uuidv7(), u.id)).toBeUndefined();
      expect(await repos().memberships.networkStatus(net.id, u.id)).toBe("pending");
      expect(await repos().memberships.networkStatus(net.id, owner.id)).toBeUndefined();
      await repos().networks.activate(net.id, u.id, NOW);
      expect(await repos().memberships.networkStatus(net.id, u.id)).toBe("active");
    });

    it("gives a user's communities and active networks, apart and in one query", async () => {
      const owner = await fixtures().user();
      const u = await fixtures().user();
      const t1 = await fixtures().tenant(owner.id);
      const t2 = await fixtures().tenant(u.id);
      await fixtures().tenant(owner.id);
      await repos().tenants.addMember(t1.id, u.id, "member", NOW);
      const active = await fixtures().network(t1.id);
      const pending = await fixtures().network(t1.id);
      const mine = await fixtures().network(t2.id);
      await repos().networks.addMember(active.id, u.id, "active", NOW);
      await repos().networks.addMember(pending.id, u.id, "pending", NOW);
      await repos().networks.addMember(mine.id, u.id, "active", NOW);
      const sort = (a: string[]) => [...a].sort();
      expect(sort(await repos().memberships.tenantIdsOf(u.id))).toEqual(sort([t1.id, t2.id]));
      expect(sort(await repos().memberships.networkIdsOf(u.id))).toEqual(sort([active.id, mine.id]));
      const scope = await repos().memberships.scopeIdsOf(u.id);
      expect({ tenants: sort(scope.tenants), networks: sort(scope.networks) }).toEqual({
        tenants: sort([t1.id, t2.id]),
        networks: sort([active.id, mine.id]),
      });
      const nobody = uuidv7();
      expect(await repos().memberships.scopeIdsOf(nobody)).toEqual({ tenants: [], networks: [] });
      expect(await repos().memberships.tenantIdsOf(nobody)).toEqual([]);
      expect(await repos().memberships.networkIdsOf(nobody)).toEqual([]);
    });

    it("tells whether two users share a community, and an active network", async () => {
      const a = await fixtures().user();
      const b = await fixtures().user();
      const c = await fixtures().user();
      const t = await fixtures().tenant(a.id);
      await repos().tenants.addMember(t.id, b.id, "member", NOW);
      expect(await repos().memberships.shareCommunity(a.id, b.id)).toBe(true);
      expect(await repos().memberships.shareCommunity(b.id, a.id)).toBe(true);
      expect(await repos().memberships.shareCommunity(a.id, c.id)).toBe(false);
      const net = await fixtures().network(t.id);
      await repos().networks.addMember(net.id, a.id, "active", NOW);
      await repos().networks.addMember(net.id, b.id, "pending", NOW);
      expect(await repos().memberships.shareNetwork(a.id, b.id)).toBe(false);
      await repos().networks.activate(net.id, b.id, NOW);
      expect(await repos().memberships.shareNetwork(a.id, b.id)).toBe(true);
      expect(await repos().memberships.shareNetwork(b.id, a.id)).toBe(true);
      expect(await repos().memberships.shareNetwork(a.id, c.id)).toBe(false);
    });

    it("forgets memberships when the community is deleted (cascade)", async () => {
      const owner = await fixtures().user();
      const t = await fixtures().tenant(owner.id);
      const net = await fixtures().network(t.id);
      await repos().networks.addMember(net.id, owner.id, "active", NOW);
      await repos().tenants.delete(t.id);
      expect(await repos().memberships.scopeIdsOf(owner.id)).toEqual({ tenants: [], networks: [] });
      expect(await repos().memberships.tenantRole(t.id, owner.id)).toBeUndefined();
    });
  });
}
