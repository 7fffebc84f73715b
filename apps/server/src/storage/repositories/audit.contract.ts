import { uuidv7 } from "@warren/protocol";
import { describe, expect, it } from "vitest";
import type { AuditRow } from "./audit.js";
import { now, type Open, useDatabase, violation } from "./fixtures.js";

/** The audit repository on every backend. */
export function auditContract(name: string, open: Open) {
  describe(`audit repository on ${name}`, () => {
    const { repos, db, fixtures } = useDatabase(open);
    const event = (over: Partial<AuditRow> = {}): AuditRow => ({
      id: uuidv7(),
      actor_id: null,
      action: "x",
      target: null,
      tenant_id: null,
      ip: null,
      details: null,
      created_at: now(),
      ...over,
    });

    it("records audit events and lists them newest first, filtered", async () => {
      const actor = uuidv7();
      for (const action of ["a.one", "a.two", "a.one"]) {
        await repos().audit.insert({
          id: uuidv7(),
          actor_id: actor,
          action,
          target: null,
          tenant_id: null,
          ip: null,
          details: null,
          created_at: now(),
        });
      }
      const all = await repos().audit.list({ actorId: actor });
      expect(all.map((e) => e.action)).toEqual(["a.one", "a.two", "a.one"]);
      expect(await repos().audit.list({ actorId: actor, action: "a.one" })).toHaveLength(2);
    });

    it("lists by created_at then id, newest first, up to the limit, with every column", async () => {
      const actor = uuidv7();
      const t = "2001-01-01T00:00:00.000Z";
      const a = event({
        actor_id: actor,
        created_at: "2001-01-02T00:00:00.000Z",
        action: "l",
        details: "{}",
      });
      const b = event({ actor_id: actor, created_at: t, action: "l", ip: "192.0.2.1" });
      const c = event({ actor_id: actor, created_at: t, action: "l", target: "t" });
      for (const e of [c, a, b]) await repos().audit.insert(e);
      expect(await repos().audit.list({ actorId: actor })).toEqual([a, c, b]);
      expect(await repos().audit.list({ actorId: actor, limit: 2 })).toEqual([a, c]);
      expect(await repos().audit.list({ actorId: uuidv7() })).toEqual([]);
      expect(await repos().audit.list({ actorId: actor, action: "nope" })).toEqual([]);
    });

    it("keeps events after their actor is gone (no foreign key), and refuses a repeated id", async () => {
      const u = await fixtures().user();
      const e = event({ actor_id: u.id, action: "ghost" });
      await repos().audit.insert(e);
      await db().deleteFrom("users").where("id", "=", u.id).execute();
      expect(await repos().audit.list({ actorId: u.id })).toEqual([e]);
      expect(await violation(() => repos().audit.insert({ ...e, action: "again" }))).toMatch(
        /id|primary|pkey/,
      );
      await repos().audit.insert(event({ actor_id: uuidv7(), action: "never.a.user" }));
    });

    it("lists a community's log by id, newest first, with the actor's username or null", async () => {
      const u = await fixtures().user();
      const tenant = uuidv7();
      const gone = uuidv7();
      const ids = [uuidv7(), uuidv7(), uuidv7(), uuidv7()].sort();
      const e1 = event({
        id: ids[0],
        tenant_id: tenant,
        actor_id: u.id,
        action: "member.join",
        created_at: "2002-01-01T00:00:00.000Z",
      });
      const e2 = event({
        id: ids[1],
        tenant_id: tenant,
        actor_id: gone,
        action: "member.kick",
        created_at: "2002-01-02T00:00:00.000Z",
      });
      const e3 = event({
        id: ids[2],
        tenant_id: tenant,
        actor_id: u.id,
        action: "network.create",
        created_at: "2002-01-03T00:00:00.000Z",
      });
      const e4 = event({
        id: ids[3],
        tenant_id: tenant,
        actor_id: u.id,
        action: "memberXjoin",
        created_at: "2002-01-04T00:00:00.000Z",
      });
      const elsewhere = event({ tenant_id: uuidv7(), actor_id: u.id, action: "member.join" });
      for (const e of [e1, e2, e3, e4, elsewhere]) await repos().audit.insert(e);
      const list = (f: Partial<Parameters<ReturnType<typeof repos>["audit"]["listForTenant"]>[1]> = {}) =>
        repos()
          .audit.listForTenant(tenant, { limit: 50, ...f })
          .then((rows) => rows.map((r) => r.id));
      const all = await repos().audit.listForTenant(tenant, { limit: 50 });
      expect(all.map((r) => r.id)).toEqual([e4.id, e3.id, e2.id, e1.id]);
      expect(all[0]).toEqual({ ...e4, actor_username: u.username });
      expect(all[2]?.actor_username).toBeNull();
      // "member." is a prefix (not a LIKE pattern: "memberXjoin" stays out); otherwise exact
      expect(await list({ action: "member." })).toEqual([e2.id, e1.id]);
      expect(await list({ action: "member.join" })).toEqual([e1.id]);
      expect(await list({ action: "member" })).toEqual([]);
      expect(await list({ actorId: gone })).toEqual([e2.id]);
      // since inclusive, until exclusive
      expect(await list({ since: e2.created_at, until: e4.created_at })).toEqual([e3.id, e2.id]);
      // paging: strictly before an id
      expect(await list({ before: e3.id, limit: 1 })).toEqual([e2.id]);
      expect(await list({ before: e1.id })).toEqual([]);
      expect(await repos().audit.listForTenant(uuidv7(), { limit: 10 })).toEqual([]);
    });
  });
}
