import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { backends } from "./helpers/backends.js";
import { clientPool } from "./helpers/hub-client.js";
import { startTestServer, type TestServer } from "./helpers/server.js";
import { tenantKit } from "./helpers/tenants.js";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe.each(backends())("community invites on $name", (backend) => {
  let t: TestServer;
  const k = tenantKit(() => t);
  const pool = clientPool();
  beforeAll(async () => {
    t = await startTestServer(backend);
  });
  afterEach(async () => pool.closeAll());
  afterAll(async () => t?.close());

  it("creates, lists and revokes invites; codes are long, url-safe and unique", async () => {
    const owner = await k.user();
    const c = await k.community(owner, { access: "invite_only" });
    const a = await k.invite(c.id, owner, { max_uses: 3, expires_in_seconds: 3600, role: "moderator" });
    expect(a.status).toBe(201);
    expect(a.body).toEqual({
      id: expect.any(String),
      code: expect.stringMatching(/^[A-Za-z0-9_-]{16,}$/),
      tenant_id: c.id,
      network_id: null,
      role: "moderator",
      max_uses: 3,
      uses: 0,
      expires_at: expect.stringMatching(ISO),
      revoked_at: null,
      created_by: owner.id,
      created_at: expect.stringMatching(ISO),
    });
    const expiresIn = Date.parse(a.body.expires_at) - Date.now();
    expect(expiresIn).toBeGreaterThan(3500_000);
    expect(expiresIn).toBeLessThanOrEqual(3600_000);
    const b = k.ok(await k.invite(c.id, owner), 201);
    expect(b).toMatchObject({ role: "member", max_uses: null, expires_at: null });
    expect(b.code).not.toBe(a.body.code);

    const list = await k.api("GET", `/v1/tenants/${c.id}/invites`, { token: owner.token });
    expect(list.status).toBe(200);
    expect(list.body.invites.map((i: any) => i.id)).toEqual([b.id, a.body.id]);

    const revoke = await k.api("DELETE", `/v1/tenants/${c.id}/invites/${b.id}`, { token: owner.token });
    expect(revoke.status).toBe(204);
    const after = await k.api("GET", `/v1/tenants/${c.id}/invites`, { token: owner.token });
    expect(after.body.invites[0].revoked_at).toMatch(ISO);
    const bob = await k.user();
    const used = await k.accept(b.code, bob);
    expect(used.status).toBe(404);
    expect(used.body.error.code).toBe("invalid_invite");
    expect(await k.audit(c.id, "invite.create")).toHaveLength(2);
    expect(await k.audit(c.id, "invite.revoke")).toHaveLength(1);
  });

  it("checks invite bodies: expiry in the future, one expiry form, role up to the creator's own", async () => {
    const owner = await k.user();
    const mod = await k.user();
    const c = await k.community(owner);
    await k.member(c.id, mod, "moderator", owner);
    const past = await k.invite(c.id, owner, { expires_at: new Date(Date.now() - 1000).toISOString() });
    expect(past.status).toBe(400);
    const both = await k.invite(c.id, owner, {
      expires_at: new Date(Date.now() + 60_000).toISOString(),
      expires_in_seconds: 60,
    });
    expect(both.status).toBe(400);
    expect((await k.invite(c.id, owner, { max_uses: 0 })).status).toBe(400);
    expect((await k.invite(c.id, owner, { role: "owner" })).status).toBe(400);
    const above = await k.invite(c.id, mod, { role: "admin" });
    expect(above.status).toBe(403);
    expect(above.body.error.code).toBe("forbidden");
    expect((await k.invite(c.id, mod, { role: "moderator" })).status).toBe(201);
    const at = new Date(Date.now() + 120_000).toISOString();
    expect(k.ok(await k.invite(c.id, owner, { expires_at: at }), 201).expires_at).toBe(at);
  });

  it("accepting joins with the invite's role; used-up, expired and unknown codes answer alike", async () => {
    const owner = await k.user();
    const c = await k.community(owner, { access: "invite_only" });
    const invite = k.ok(await k.invite(c.id, owner, { role: "admin", max_uses: 1 }), 201);
    const bob = await k.user();
    const socket = await pool.connect(t.url, owner);
    const res = await k.accept(invite.code, bob);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      tenant: expect.objectContaining({ id: c.id, role: "admin", member_count: 2 }),
      network_id: null,
      role: "admin",
    });
    expect(await socket.next((f) => f.type === "member_joined" && f.user.id === bob.id, 5000)).toEqual({
      type: "member_joined",
      tenant_id: c.id,
      network_id: null,
      user: { id: bob.id, username: bob.username },
      role: "admin",
    });
    const carol = await k.user();
    const usedUp = await k.accept(invite.code, carol);
    const unknown = await k.accept("definitely-not-a-real-code", carol);
    expect(usedUp.status).toBe(404);
    expect(usedUp.body).toEqual(unknown.body);
    expect(usedUp.body.error.code).toBe("invalid_invite");

    const expiring = k.ok(await k.invite(c.id, owner, { expires_in_seconds: 1 }), 201);
    t.clock.advance(1200);
    expect((await k.accept(expiring.code, carol)).body).toEqual(unknown.body);

    // Already a member: 409, and the use is not spent.
    const multi = k.ok(await k.invite(c.id, owner, { max_uses: 2 }), 201);
    const again = await k.accept(multi.code, bob);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("already_member");
    const listed = (await k.api("GET", `/v1/tenants/${c.id}/invites`, { token: owner.token })).body.invites;
    expect(listed.find((i: any) => i.id === multi.id).uses).toBe(0);
    expect(listed.find((i: any) => i.id === invite.id).uses).toBe(1);
    expect(await k.audit(c.id, "invite.use")).toHaveLength(1);
  });

  it("an invite naming a network also makes the user an active member of it", async () => {
    const owner = await k.user();
    const c = await k.community(owner, { access: "invite_only" });
    const networkId = await k.network(c.id);
    const adminsOnly = await k.network(c.id, { required_role: "admin" });
    await t.server.database.db
      .insertInto("network_members")
      .values({
        network_id: networkId,
        user_id: owner.id,
        status: "active",
        joined_at: new Date().toISOString(),
      })
      .execute();
    // connected after joining the network: the socket is on its topic from the start
    const socket = await pool.connect(t.url, owner);
    const invite = k.ok(await k.invite(c.id, owner, { network_id: networkId }), 201);
    expect(invite.network_id).toBe(networkId);
    const bob = await k.user();
    const bobSocket = await pool.connect(t.url, bob);
    const res = await k.accept(invite.code, bob);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ network_id: networkId, role: "member" });
    expect(await t.server.repositories.memberships.networkStatus(networkId, bob.id)).toBe("active");
    // Both topic changes reached bob's open socket: he hears his own arrival on each.
    const seen = await socket.next((f) => f.type === "member_joined" && f.network_id === networkId, 5000);
    expect(seen).toEqual({
      type: "member_joined",
      tenant_id: c.id,
      network_id: networkId,
      user: { id: bob.id, username: bob.username },
      status: "active",
    });
    await bobSocket.next(
      (f) => f.type === "member_joined" && f.network_id === null && f.user.id === bob.id,
      5000,
    );

    // A network of another community is refused as not found.
    const other = await k.community(owner);
    const foreign = await k.network(other.id);
    expect((await k.invite(c.id, owner, { network_id: foreign })).status).toBe(404);

    // An existing member takes a network invite: joins the network only.
    const second = await k.network(c.id);
    const join2 = k.ok(await k.invite(c.id, owner, { network_id: second }), 201);
    const res2 = await k.accept(join2.code, bob);
    expect(res2.status).toBe(200);
    expect(await t.server.repositories.memberships.networkStatus(second, bob.id)).toBe("active");
    expect((await k.accept(join2.code, bob)).body.error.code).toBe("already_member");

    // The role the invite gives must meet the network's required role.
    const needAdmin = k.ok(await k.invite(c.id, owner, { network_id: adminsOnly }), 201);
    const carol = await k.user();
    const refused = await k.accept(needAdmin.code, carol);
    expect(refused.status).toBe(403);
    expect(await k.role(c.id, carol.id)).toBeUndefined();
  });

  it("two users racing for the last use: exactly one wins", async () => {
    const owner = await k.user();
    const c = await k.community(owner, { access: "invite_only" });
    const users = await Promise.all(Array.from({ length: 6 }, () => k.user()));
    for (const maxUses of [1, 3]) {
      const invite = k.ok(await k.invite(c.id, owner, { max_uses: maxUses }), 201);
      const racers = maxUses === 1 ? users.slice(0, 2) : users.slice(2);
      const results = await Promise.all(racers.map((u) => k.accept(invite.code, u)));
      const won = results.filter((r) => r.status === 200);
      const lost = results.filter((r) => r.status !== 200);
      expect(won).toHaveLength(maxUses);
      expect(lost.every((r) => r.status === 404 && r.body.error.code === "invalid_invite")).toBe(true);
      const row = await t.server.database.db
        .selectFrom("invites")
        .select("uses")
        .where("id", "=", invite.id)
        .executeTakeFirstOrThrow();
      expect(Number(row.uses)).toBe(maxUses);
    }
    const members = await k.api("GET", `/v1/tenants/${c.id}/members`, { token: owner.token });
    expect(members.body.members).toHaveLength(1 + 1 + 3);
  });

  it("a banned user cannot use an invite; moderators and above manage invites", async () => {
    const owner = await k.user();
    const member = await k.user();
    const troll = await k.user();
    const c = await k.community(owner, { access: "open", visibility: "public" });
    k.ok(await k.join(c.id, member), 200);
    k.ok(
      await k.api("POST", `/v1/tenants/${c.id}/bans`, { token: owner.token, body: { user_id: troll.id } }),
      201,
    );
    const invite = k.ok(await k.invite(c.id, owner), 201);
    const refused = await k.accept(invite.code, troll);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("banned");
    expect((await k.join(c.id, troll, { invite_code: invite.code })).body.error.code).toBe("banned");
    expect((await k.join(c.id, troll)).body.error.code).toBe("banned");
    expect((await k.invite(c.id, member)).status).toBe(403);
    expect((await k.api("GET", `/v1/tenants/${c.id}/invites`, { token: member.token })).status).toBe(403);
    expect(
      (await k.api("DELETE", `/v1/tenants/${c.id}/invites/${invite.id}`, { token: member.token })).status,
    ).toBe(403);
    const listed = (await k.api("GET", `/v1/tenants/${c.id}/invites`, { token: owner.token })).body.invites;
    expect(listed[0].uses).toBe(0);
  });
});
