import { uuidv7 } from "@warren/protocol";
import { describe, expect, it } from "vitest";
import { type Open, useDatabase } from "./fixtures.js";

/** The personal data repository (export and erasure) on every backend. */
export function personalDataContract(name: string, open: Open) {
  describe(`personal data repository on ${name}`, () => {
    const { repos, db, fixtures } = useDatabase(open);
    const AT = "2030-01-01T00:00:00.000Z";

    /** A user with one row of nearly every kind, and someone else's rows beside them. */
    const populated = async () => {
      const u = await fixtures().user();
      const other = await fixtures().user();
      const t = await fixtures().tenant(other.id, { name: "Theirs" });
      await repos().tenants.addMember(t.id, u.id, "member", AT);
      const n = await fixtures().network(t.id, { name: "lan" });
      await repos().networks.addMember(n.id, u.id, "active", AT);
      const d = await fixtures().device(u.id);
      const p = await fixtures().peer(n.id, d.id, u.id, 5);
      await fixtures().peer(n.id, (await fixtures().device(other.id)).id, other.id, 6);
      const keyId = uuidv7();
      await repos().keys.insert({
        id: keyId,
        user_id: u.id,
        kind: "ed25519",
        public_key: `pd${keyId}`,
        label: "l",
        created_at: AT,
      });
      const sessionId = uuidv7();
      const session = {
        id: sessionId,
        user_id: u.id,
        created_at: AT,
        refreshed_at: AT,
        expires_at: "2999-01-01T00:00:00.000Z",
        revoked_at: null,
        revoke_reason: null,
        signin_key_id: null,
        proved_at: null,
        user_agent: "ua",
      };
      await repos().sessions.create(session, {
        id: uuidv7(),
        session_id: sessionId,
        token_hash: `secret${sessionId}`,
        created_at: AT,
        expires_at: session.expires_at,
        rotated_at: null,
      });
      await repos().tenants.ban({
        tenant_id: (await fixtures().tenant(other.id)).id,
        user_id: u.id,
        reason: "r",
        until: null,
        by_id: other.id,
        created_at: AT,
      });
      await repos().networks.ban({
        network_id: n.id,
        user_id: u.id,
        reason: null,
        until: AT,
        by_id: other.id,
        created_at: AT,
      });
      const msgId = uuidv7();
      await repos().chat.insert({
        id: msgId,
        tenant_id: t.id,
        network_id: null,
        user_id: u.id,
        body: "hi",
        created_at: AT,
        edited_at: null,
      });
      await repos().chat.insert({
        id: uuidv7(),
        tenant_id: t.id,
        network_id: null,
        user_id: other.id,
        body: "theirs",
        created_at: AT,
        edited_at: null,
      });
      await repos().audit.insert({
        id: uuidv7(),
        actor_id: u.id,
        action: "me.act",
        target: null,
        tenant_id: null,
        ip: null,
        details: null,
        created_at: AT,
      });
      return { u, other, t, n, d, p, keyId, sessionId, msgId };
    };

    it("collects exactly the user's rows, without secrets or other people's", async () => {
      const { u, other, t, n, d, p, keyId, sessionId, msgId } = await populated();
      const all = await repos().personalData.collect(u.id);
      expect(all.keys).toEqual([
        { id: keyId, kind: "ed25519", public_key: `pd${keyId}`, label: "l", created_at: AT },
      ]);
      expect(all.sessions.map((s) => s.id)).toEqual([sessionId]);
      expect(JSON.stringify(all)).not.toContain("secret");
      // who banned the user is the moderator's data, not theirs
      expect(all.bans.every((b) => !("by_id" in b))).toBe(true);
      expect(all.devices.map((x) => x.id)).toEqual([d.id]);
      expect(all.peers).toEqual([
        {
          id: p.id,
          network_id: n.id,
          tenant_id: t.id,
          network_name: "lan",
          device_id: d.id,
          address: p.address,
          endpoint: null,
          last_seen: null,
          created_at: p.created_at,
        },
      ]);
      expect(all.communities).toEqual([
        { tenant_id: t.id, name: "Theirs", role: "member", owner_id: other.id, joined_at: AT },
      ]);
      expect(all.networks.map((x) => [x.network_id, x.status])).toEqual([[n.id, "active"]]);
      expect(all.bans.map((b) => b.network_id)).toEqual([null, n.id]);
      expect(all.messages.map((m) => [m.id, m.body])).toEqual([[msgId, "hi"]]);
      expect(all.audit.map((a) => a.action)).toEqual(["me.act"]);
      expect(all.rooms).toEqual([]);
      expect(all.invites).toEqual([]);
    });

    it("collects nothing for an unknown user", async () => {
      const none = await repos().personalData.collect(uuidv7());
      for (const rows of Object.values(none)) expect(rows).toEqual([]);
    });

    it("lists owned communities with the other members counted, and owned rooms", async () => {
      const u = await fixtures().user();
      const x = await fixtures().user();
      const alone = await fixtures().tenant(u.id, { name: "Alone" });
      const shared = await fixtures().tenant(u.id, { name: "Shared" });
      await repos().tenants.addMember(shared.id, x.id, "member", AT);
      await fixtures().tenant(x.id);
      const owned = await repos().personalData.ownedCommunities(u.id);
      expect(owned).toEqual(
        [
          { id: alone.id, name: "Alone", others: 0 },
          { id: shared.id, name: "Shared", others: 1 },
        ].sort((a, b) => a.id.localeCompare(b.id)),
      );
      const roomId = uuidv7();
      await repos().rooms.insert({
        id: roomId,
        name: "r",
        password_hash: null,
        owner_id: u.id,
        owner_key: null,
        max_members: 2,
        persistent: 0,
        created_at: AT,
        last_activity_at: AT,
      });
      expect(await repos().personalData.ownedRoomIds(u.id)).toEqual([roomId]);
      expect(await repos().personalData.ownedRoomIds(x.id)).toEqual([]);
    });

    it("deletes communities, then the user: cascades, chat kept without author, audit kept", async () => {
      const { u, t, msgId } = await populated();
      const own = await fixtures().tenant(u.id);
      await expect(repos().personalData.deleteUser(u.id)).rejects.toThrow(); // owner of a community
      await repos().personalData.deleteCommunities([own.id]);
      await repos().personalData.deleteCommunities([]);
      expect(await repos().tenants.byIdFor(own.id, u.id)).toBeUndefined();
      expect(await repos().personalData.deleteUser(u.id)).toBe(true);
      expect(await repos().personalData.deleteUser(u.id)).toBe(false);
      const left = await repos().personalData.collect(u.id);
      expect(left.keys.length + left.sessions.length + left.devices.length + left.peers.length).toBe(0);
      expect(left.communities.length + left.networks.length + left.bans.length).toBe(0);
      expect(left.audit).toHaveLength(1);
      const msg = await db()
        .selectFrom("chat_messages")
        .selectAll()
        .where("id", "=", msgId)
        .executeTakeFirst();
      expect(msg).toMatchObject({ tenant_id: t.id, user_id: null, body: "hi" });
    });
  });
}
