import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures, randomId } from "./chat-fixtures.js";
import { backends } from "./helpers/backends.js";
import { type HubUser, hubUser } from "./helpers/hub-client.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

interface Event {
  id: string;
  action: string;
  actor_id: string | null;
  actor_username: string | null;
  target: string | null;
  details: any;
  ip?: string;
  created_at: string;
}

describe.each(backends())("community audit log on $name", (backend) => {
  let t: TestServer;
  let f: ReturnType<typeof fixtures>;
  let owner: HubUser;
  let admin: HubUser;
  let moderator: HubUser;
  let member: HubUser;
  let stranger: HubUser;
  let tenant: string;
  /** messages the moderator deleted, oldest first: known chat.delete events */
  const deleted: string[] = [];

  beforeAll(async () => {
    t = await startTestServer(backend);
    f = fixtures(t.api);
    [owner, admin, moderator, member, stranger] = await Promise.all([
      hubUser(t.api),
      hubUser(t.api),
      hubUser(t.api),
      hubUser(t.api),
      hubUser(t.api),
    ]);
    tenant = await f.community(owner);
    await f.member(tenant, admin, "admin", owner);
    await f.member(tenant, moderator, "moderator", owner);
    await f.member(tenant, member, "member", owner);
    for (let i = 0; i < 5; i++) {
      const id = (await f.post(`/v1/tenants/${tenant}/messages`, member, `spam ${i}`)).body.id;
      f.ok(await t.api("DELETE", `/v1/messages/${id}`, { token: moderator.token }), 204);
      deleted.push(id);
    }
    // The member deleting their own message is not moderation: no event.
    const own = (await f.post(`/v1/tenants/${tenant}/messages`, member, "oops")).body.id;
    f.ok(await t.api("DELETE", `/v1/messages/${own}`, { token: member.token }), 204);
  });
  afterAll(async () => t?.close());

  const audit = (who: HubUser, query = "", id = tenant) =>
    t.api("GET", `/v1/tenants/${id}/audit${query}`, { token: who.token });

  it("is for admins and the owner: 403 below, 404 outside", async () => {
    for (const who of [owner, admin]) {
      const res = await audit(who);
      expect(res.status, who.username).toBe(200);
      expect(res.body.events.length).toBeGreaterThan(0);
    }
    for (const who of [moderator, member]) {
      const res = await audit(who);
      expect(res.status, who.username).toBe(403);
      expect(res.body.error.code).toBe("forbidden");
    }
    for (const [who, id] of [
      [stranger, tenant],
      [owner, randomId()],
    ] as const) {
      const res = await audit(who, "", id);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
    expect((await t.api("GET", `/v1/tenants/${tenant}/audit`)).status).toBe(401);
  });

  it("lists the community's events newest first, with actor names and parsed details, no address", async () => {
    const res = await audit(owner, "?action=chat.delete");
    expect(res.status).toBe(200);
    const events: Event[] = res.body.events;
    expect(events.map((e) => e.target)).toEqual([...deleted].reverse());
    expect(events[0]).toEqual({
      id: expect.any(String),
      action: "chat.delete",
      actor_id: moderator.id,
      actor_username: moderator.username,
      target: deleted[4],
      details: { tenant_id: tenant, network_id: null, author_id: member.id },
      created_at: expect.any(String),
    });
    expect(res.body.next_cursor).toBeNull();
    // Another community's events never show here.
    const other = await f.community(stranger);
    const otherEvents: Event[] = (await audit(stranger, "", other)).body.events;
    expect(otherEvents.length).toBeGreaterThan(0);
    const mine: Event[] = (await audit(owner, "?limit=100")).body.events;
    expect(mine.some((e) => otherEvents.some((o) => o.id === e.id))).toBe(false);
    expect(mine.every((e) => !("ip" in e))).toBe(true);
  });

  it("filters by action prefix, actor and time, and pages without gaps or repeats", async () => {
    const all: Event[] = (await audit(owner, "?limit=100")).body.events;
    const ids = all.map((e) => e.id);
    expect([...ids].sort().reverse()).toEqual(ids);

    const members: Event[] = (await audit(owner, "?action=member.&limit=100")).body.events;
    expect(members.length).toBeGreaterThan(0); // joins and role changes are recorded by the tenants service
    expect(members.every((e) => e.action.startsWith("member."))).toBe(true);
    expect(members).toEqual(all.filter((e) => e.action.startsWith("member.")));
    expect((await audit(owner, "?action=chat.")).body.events).toHaveLength(5);
    expect((await audit(owner, "?action=chat")).body.events).toHaveLength(0); // exact, not a prefix

    const byMod: Event[] = (await audit(owner, `?actor=${moderator.id}&limit=100`)).body.events;
    expect(byMod.length).toBeGreaterThanOrEqual(5);
    expect(byMod.every((e) => e.actor_id === moderator.id)).toBe(true);

    const chats: Event[] = (await audit(owner, "?action=chat.delete")).body.events;
    const [newest, , middle, , oldest] = chats as [Event, Event, Event, Event, Event];
    const window: Event[] = (
      await audit(owner, `?action=chat.delete&since=${middle.created_at}&until=${newest.created_at}`)
    ).body.events;
    expect(window.every((e) => e.created_at >= middle.created_at && e.created_at < newest.created_at)).toBe(
      true,
    );
    expect(window.map((e) => e.id)).toContain(middle.id);
    expect(window.map((e) => e.id)).not.toContain(newest.id);
    expect(window.map((e) => e.id)).not.toContain(oldest.id);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await audit(owner, `?limit=2${cursor ? `&before=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      expect(res.body.events.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.events.map((e: Event) => e.id));
      cursor = res.body.next_cursor;
      pages += 1;
    } while (cursor && pages < 100);
    expect(seen).toEqual(ids);

    for (const q of [
      "?limit=0",
      "?limit=101",
      "?action=Member",
      "?actor=nope",
      "?since=yesterday",
      "?before=x",
    ]) {
      expect((await audit(owner, q)).status, q).toBe(400);
    }
  });

  it("shows the client address only when the server records it (AUDIT_CLIENT_IP)", async () => {
    const withIp = await startTestServer(backend, { AUDIT_CLIENT_IP: "true" });
    try {
      const g = fixtures(withIp.api);
      const [o, m] = await Promise.all([hubUser(withIp.api), hubUser(withIp.api)]);
      const id = await g.community(o);
      await g.join(id, m);
      const msg = (await g.post(`/v1/tenants/${id}/messages`, m, "x")).body.id;
      g.ok(await withIp.api("DELETE", `/v1/messages/${msg}`, { token: o.token }), 204);
      const res = await withIp.api("GET", `/v1/tenants/${id}/audit?action=chat.delete`, { token: o.token });
      expect(res.body.events[0].ip).toBe("127.0.0.1");
    } finally {
      await withIp.close();
    }
  });
});
