import { uuidv7 } from "@warren/protocol";
import { describe, expect, it } from "vitest";
import type { ChatRow } from "./chat.js";
import { type Open, useDatabase, violation } from "./fixtures.js";

/** The chat repository on every backend. */
export function chatContract(name: string, open: Open) {
  describe(`chat repository on ${name}`, () => {
    const { repos, db, fixtures } = useDatabase(open);
    const AT = "2030-01-01T00:00:00.000Z";
    const msg = (tenantId: string, userId: string | null, over: Partial<ChatRow> = {}): ChatRow => ({
      id: uuidv7(),
      tenant_id: tenantId,
      network_id: null,
      user_id: userId,
      body: "hello",
      created_at: AT,
      edited_at: null,
      ...over,
    });
    /** `k` ids in ascending order. */
    const ids = (k: number) => Array.from({ length: k }, () => uuidv7()).sort();
    const setup = async () => {
      const owner = await fixtures().user();
      const member = await fixtures().user();
      const t = await fixtures().tenant(owner.id);
      await repos().tenants.addMember(t.id, member.id, "member", AT);
      const n = await fixtures().network(t.id);
      return { owner, member, t, n };
    };

    it("answers community and network access only for members (active, still in the community)", async () => {
      const { owner, member, t, n } = await setup();
      const outsider = await fixtures().user();
      expect(await repos().chat.tenantAccess(t.id, owner.id)).toBe("owner");
      expect(await repos().chat.tenantAccess(t.id, outsider.id)).toBeUndefined();
      expect(await repos().chat.networkAccess(n.id, member.id)).toBeUndefined();
      await repos().networks.addMember(n.id, member.id, "pending", AT);
      expect(await repos().chat.networkAccess(n.id, member.id)).toBeUndefined();
      await repos().networks.activate(n.id, member.id, AT);
      expect(await repos().chat.networkAccess(n.id, member.id)).toEqual({ tenantId: t.id, role: "member" });
      // an active network member no longer in the community has no access
      await repos().networks.addMember(n.id, outsider.id, "active", AT);
      expect(await repos().chat.networkAccess(n.id, outsider.id)).toBeUndefined();
      expect(await repos().chat.networkAccess(uuidv7(), owner.id)).toBeUndefined();
    });

    it("shows a message to who may see it, with author and viewer role; others get nothing", async () => {
      const { owner, member, t, n } = await setup();
      const outsider = await fixtures().user();
      const m = msg(t.id, member.id);
      const inNet = msg(t.id, owner.id, { network_id: n.id });
      await repos().chat.insert(m);
      await repos().chat.insert(inNet);
      expect(await repos().chat.visible(m.id, owner.id)).toEqual({
        ...m,
        username: member.username,
        viewer_role: "owner",
      });
      expect(await repos().chat.visible(m.id, outsider.id)).toBeUndefined();
      expect(await repos().chat.visible(uuidv7(), owner.id)).toBeUndefined();
      expect(await repos().chat.visible(inNet.id, member.id)).toBeUndefined();
      await repos().networks.addMember(n.id, member.id, "active", AT);
      expect((await repos().chat.visible(inNet.id, member.id))?.viewer_role).toBe("member");
      expect(await violation(() => repos().chat.insert({ ...m }))).toMatch(/id|primary|pkey/);
    });

    it("pages a channel newest first, strictly before an id, and keeps channels apart", async () => {
      const { owner, t, n } = await setup();
      const [a, b, c, d] = ids(4);
      const rows = [a, b, c].map((id, i) => msg(t.id, owner.id, { id, body: `m${i}` }));
      for (const r of rows) await repos().chat.insert(r);
      await repos().chat.insert(msg(t.id, owner.id, { id: d, network_id: n.id }));
      const channel = { tenantId: t.id, networkId: null };
      expect((await repos().chat.page(channel, 10)).map((r) => r.id)).toEqual([c, b, a]);
      expect((await repos().chat.page(channel, 2)).map((r) => r.id)).toEqual([c, b]);
      expect((await repos().chat.page(channel, 10, b)).map((r) => r.id)).toEqual([a]);
      expect((await repos().chat.page({ tenantId: t.id, networkId: n.id }, 10)).map((r) => r.id)).toEqual([
        d,
      ]);
      expect((await repos().chat.page(channel, 1))[0]).toEqual({ ...rows[2], username: owner.username });
      expect(await repos().chat.page({ tenantId: uuidv7(), networkId: null }, 10)).toEqual([]);
    });

    it("gives messages strictly after an id, oldest first, per community or network", async () => {
      const { owner, t, n } = await setup();
      const [a, b, c, d] = ids(4);
      for (const id of [c, a, b]) await repos().chat.insert(msg(t.id, owner.id, { id }));
      await repos().chat.insert(msg(t.id, owner.id, { id: d, network_id: n.id }));
      expect((await repos().chat.after({ tenantId: t.id }, a as string, 10)).map((r) => r.id)).toEqual([
        b,
        c,
      ]);
      expect((await repos().chat.after({ tenantId: t.id }, a as string, 1)).map((r) => r.id)).toEqual([b]);
      expect((await repos().chat.after({ networkId: n.id }, a as string, 10)).map((r) => r.id)).toEqual([d]);
      expect(await repos().chat.after({ networkId: n.id }, d as string, 10)).toEqual([]);
    });

    it("edits and deletes one message, false when absent", async () => {
      const { owner, t } = await setup();
      const m = msg(t.id, owner.id);
      await repos().chat.insert(m);
      expect(await repos().chat.edit(m.id, "changed", "2031-01-01T00:00:00.000Z")).toBe(true);
      expect(await repos().chat.visible(m.id, owner.id)).toMatchObject({
        body: "changed",
        edited_at: "2031-01-01T00:00:00.000Z",
      });
      expect(await repos().chat.edit(uuidv7(), "x", AT)).toBe(false);
      expect(await repos().chat.delete(m.id)).toBe(true);
      expect(await repos().chat.delete(m.id)).toBe(false);
      expect(await repos().chat.visible(m.id, owner.id)).toBeUndefined();
    });

    it("keeps messages of a deleted author (username null), drops them with their network", async () => {
      const { owner, member, t, n } = await setup();
      const kept = msg(t.id, member.id);
      const netMsg = msg(t.id, owner.id, { network_id: n.id });
      await repos().chat.insert(kept);
      await repos().chat.insert(netMsg);
      await repos().personalData.deleteUser(member.id);
      expect(await repos().chat.visible(kept.id, owner.id)).toMatchObject({ user_id: null, username: null });
      await repos().networks.delete(n.id);
      expect(
        await db().selectFrom("chat_messages").select("id").where("id", "=", netMsg.id).execute(),
      ).toEqual([]);
    });
  });
}
