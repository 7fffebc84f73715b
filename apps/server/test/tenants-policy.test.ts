import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "./helpers/backends.js";
import type { HubUser } from "./helpers/hub-client.js";
import { startTestServer, type TestServer } from "./helpers/server.js";
import { tenantKit } from "./helpers/tenants.js";

type Actor = "nonmember" | "member" | "moderator" | "admin" | "owner";
/** Tried in this order, so the owner's destructive actions (delete, transfer) come last. */
const ACTORS: Actor[] = ["nonmember", "member", "moderator", "admin", "owner"];

/**
 * The policy table as a user meets it over HTTP (docs/communities.md "Roles"): the
 * status each actor gets. Written out, not computed from policy.ts, so a change to the
 * table has to change this too.
 */
const EXPECTED: Record<string, Record<Actor, number>> = {
  update: { nonmember: 404, member: 403, moderator: 403, admin: 200, owner: 200 },
  delete: { nonmember: 404, member: 403, moderator: 403, admin: 403, owner: 204 },
  invite: { nonmember: 404, member: 403, moderator: 201, admin: 201, owner: 201 },
  revoke_invite: { nonmember: 404, member: 403, moderator: 204, admin: 204, owner: 204 },
  kick: { nonmember: 404, member: 403, moderator: 204, admin: 204, owner: 204 },
  ban: { nonmember: 404, member: 403, moderator: 201, admin: 201, owner: 201 },
  unban: { nonmember: 404, member: 403, moderator: 204, admin: 204, owner: 204 },
  change_role: { nonmember: 404, member: 403, moderator: 403, admin: 200, owner: 200 },
  transfer: { nonmember: 404, member: 403, moderator: 403, admin: 403, owner: 200 },
};

describe.each(backends())("community policy over HTTP on $name", (backend) => {
  let t: TestServer;
  const k = tenantKit(() => t);
  let people: Record<Actor, HubUser>;
  /** one target member per actor, so each allowed action has its own victim */
  let targets: Record<Actor, HubUser>;
  beforeAll(async () => {
    t = await startTestServer(backend);
    const users = [];
    for (let i = 0; i < 10; i++) users.push(await k.user());
    const [owner, admin, moderator, member, nonmember, ...rest] = users as HubUser[];
    people = { owner, admin, moderator, member, nonmember } as Record<Actor, HubUser>;
    targets = Object.fromEntries(ACTORS.map((a, i) => [a, rest[i]])) as Record<Actor, HubUser>;
  });
  afterAll(async () => t?.close());

  /** A private invite-only community with every role filled and the five targets as members. */
  async function community(): Promise<string> {
    const c = await k.community(people.owner, { access: "invite_only", visibility: "private" });
    await k.member(c.id, people.admin, "admin", people.owner);
    await k.member(c.id, people.moderator, "moderator", people.owner);
    const invite = k.ok(await k.invite(c.id, people.owner, { max_uses: 6 }), 201);
    for (const u of [people.member, ...Object.values(targets)]) k.ok(await k.accept(invite.code, u), 200);
    return c.id;
  }

  type Call = (
    id: string,
    actor: HubUser,
    target: HubUser,
    prepared: any,
  ) => Promise<{ status: number; body: any }>;
  const ACTIONS: Record<string, { prepare?: (id: string, target: HubUser) => Promise<any>; call: Call }> = {
    update: {
      call: (id, a) => k.api("PATCH", `/v1/tenants/${id}`, { token: a.token, body: { description: "x" } }),
    },
    delete: { call: (id, a) => k.api("DELETE", `/v1/tenants/${id}`, { token: a.token }) },
    invite: { call: (id, a) => k.invite(id, a) },
    revoke_invite: {
      prepare: async (id) => k.ok(await k.invite(id, people.owner), 201).id,
      call: (id, a, _t, inviteId) =>
        k.api("DELETE", `/v1/tenants/${id}/invites/${inviteId}`, { token: a.token }),
    },
    kick: {
      call: (id, a, target) => k.api("DELETE", `/v1/tenants/${id}/members/${target.id}`, { token: a.token }),
    },
    ban: {
      call: (id, a, target) =>
        k.api("POST", `/v1/tenants/${id}/bans`, {
          token: a.token,
          body: { user_id: target.id, reason: "r" },
        }),
    },
    unban: {
      prepare: async (id, target) =>
        k.ok(
          await k.api("POST", `/v1/tenants/${id}/bans`, {
            token: people.owner.token,
            body: { user_id: target.id },
          }),
          201,
        ),
      call: (id, a, target) => k.api("DELETE", `/v1/tenants/${id}/bans/${target.id}`, { token: a.token }),
    },
    change_role: {
      call: (id, a, target) =>
        k.api("PATCH", `/v1/tenants/${id}/members/${target.id}`, {
          token: a.token,
          body: { role: "moderator" },
        }),
    },
    transfer: {
      call: (id, a, target) =>
        k.api("POST", `/v1/tenants/${id}/transfer`, { token: a.token, body: { user_id: target.id } }),
    },
  };

  it.each(Object.keys(EXPECTED))("%s: each role gets what the table says", async (action) => {
    const id = await community();
    const spec = ACTIONS[action];
    if (!spec) throw new Error(action);
    const got: Record<string, number> = {};
    for (const actor of ACTORS) {
      const prepared = spec.prepare ? await spec.prepare(id, targets[actor]) : undefined;
      const res = await spec.call(id, people[actor], targets[actor], prepared);
      got[actor] = res.status;
      const want = EXPECTED[action]?.[actor];
      if (want === 404) expect(res.body.error.code).toBe("not_found");
      if (want === 403) expect(res.body.error.code, `${actor} ${action}`).toBe("forbidden");
    }
    expect(got).toEqual(EXPECTED[action]);
  });
});
