import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { backends } from "./helpers/backends.js";
import { clientPool, type HubClient } from "./helpers/hub-client.js";
import { type ApiResponse, startTestServer, type TestServer } from "./helpers/server.js";
import { tenantKit } from "./helpers/tenants.js";

/** No frame matching `match` arrives at `client` within `ms`. */
async function none(client: HubClient, match: (f: any) => boolean, ms = 600) {
  expect(await client.collect(match, ms)).toEqual([]);
}

describe.each(backends())("community moderation on $name", (backend) => {
  let t: TestServer;
  const k = tenantKit(() => t);
  const pool = clientPool();
  beforeAll(async () => {
    t = await startTestServer(backend, { UPGRADE_RATE_LIMIT: "1000" });
  });
  afterEach(async () => pool.closeAll());
  afterAll(async () => t?.close());

  /** An open public community: owner, a moderator and two members, each in one network with a peer. */
  async function scene() {
    // one after another: ids (the tie-break of equal join times) follow the join order
    const owner = await k.user();
    const mod = await k.user();
    const bob = await k.user();
    const carol = await k.user();
    const c = await k.community(owner, { access: "open", visibility: "public" });
    await k.member(c.id, mod, "moderator", owner);
    k.ok(await k.join(c.id, bob), 200);
    k.ok(await k.join(c.id, carol), 200);
    const networkId = await k.network(c.id);
    const peers = {
      owner: await k.peer(networkId, owner),
      bob: await k.peer(networkId, bob),
      carol: await k.peer(networkId, carol),
    };
    return { c, owner, mod, bob, carol, networkId, peers };
  }

  it("a kick takes effect at once on live sockets; the kicked user hears nothing afterwards", async () => {
    const s = await scene();
    const bobSocket = await pool.connect(t.url, s.bob);
    const ownerSocket = await pool.connect(t.url, s.owner);
    const carolSocket = await pool.connect(t.url, s.carol);

    const kick = await k.api("DELETE", `/v1/tenants/${s.c.id}/members/${s.bob.id}`, { token: s.mod.token });
    expect(kick.status).toBe(204);

    const removed = {
      type: "member_removed",
      tenant_id: s.c.id,
      network_id: null,
      user_id: s.bob.id,
      reason: "kicked",
    };
    expect(await bobSocket.next((f) => f.type === "member_removed" && f.network_id === null, 5000)).toEqual(
      removed,
    );
    expect(await ownerSocket.next((f) => f.type === "member_removed" && f.network_id === null, 5000)).toEqual(
      removed,
    );
    expect(
      await carolSocket.next((f) => f.type === "member_removed" && f.network_id === s.networkId, 5000),
    ).toEqual({
      ...removed,
      network_id: s.networkId,
    });
    expect(await carolSocket.next("peer_removed", 5000)).toEqual({
      type: "peer_removed",
      network_id: s.networkId,
      peer_id: s.peers.bob.id,
      device_id: s.peers.bob.device_id,
      user_id: s.bob.id,
    });
    expect(await k.role(s.c.id, s.bob.id)).toBeUndefined();
    expect(await k.count("network_members", s.bob.id)).toBe(0);
    expect(await k.count("peers", s.bob.id)).toBe(0);
    expect(await k.count("peers", s.carol.id)).toBe(1);

    // Someone joins: members hear it, bob (whose sockets left the topics) does not.
    const dave = await k.user();
    k.ok(await k.join(s.c.id, dave), 200);
    await carolSocket.next((f) => f.type === "member_joined" && f.user.id === dave.id, 5000);
    await none(bobSocket, (f) => f.type === "member_joined");
    expect(bobSocket.all.filter((f) => f.type === "member_joined")).toEqual([]);

    const [row] = await k.audit(s.c.id, "member.kick");
    expect(row).toMatchObject({ actor_id: s.mod.id, target: s.bob.id });
    // A kick is not a ban: bob may come back.
    expect((await k.join(s.c.id, s.bob)).status).toBe(200);
  });

  it("a ban removes the member, tells everyone with reason and end, and keeps them out", async () => {
    const s = await scene();
    const carolSocket = await pool.connect(t.url, s.carol);
    const ownerSocket = await pool.connect(t.url, s.owner);
    const until = new Date(Date.now() + 3600_000).toISOString();
    const ban = await k.api("POST", `/v1/tenants/${s.c.id}/bans`, {
      token: s.mod.token,
      body: { user_id: s.carol.id, reason: "spam", expires_at: until },
    });
    expect(ban.status).toBe(201);
    expect(ban.body).toEqual({
      user: { id: s.carol.id, username: s.carol.username },
      reason: "spam",
      until,
      by_id: s.mod.id,
      created_at: expect.any(String),
    });
    const frame = {
      type: "member_removed",
      tenant_id: s.c.id,
      network_id: null,
      user_id: s.carol.id,
      reason: "banned",
      ban_reason: "spam",
      until,
    };
    expect(await carolSocket.next((f) => f.type === "member_removed" && f.network_id === null, 5000)).toEqual(
      frame,
    );
    expect(await ownerSocket.next((f) => f.type === "peer_removed", 5000)).toMatchObject({
      peer_id: s.peers.carol.id,
    });
    expect(await k.count("peers", s.carol.id)).toBe(0);

    const back = await k.join(s.c.id, s.carol);
    expect(back.status).toBe(403);
    expect(back.body.error.code).toBe("banned");
    const list = await k.api("GET", `/v1/tenants/${s.c.id}/bans`, { token: s.mod.token });
    expect(list.body.bans).toEqual([ban.body]);
    expect((await k.api("GET", `/v1/tenants/${s.c.id}/bans`, { token: s.bob.token })).status).toBe(403);

    const unban = await k.api("DELETE", `/v1/tenants/${s.c.id}/bans/${s.carol.id}`, { token: s.mod.token });
    expect(unban.status).toBe(204);
    expect(
      (await k.api("DELETE", `/v1/tenants/${s.c.id}/bans/${s.carol.id}`, { token: s.mod.token })).status,
    ).toBe(404);
    expect((await k.join(s.c.id, s.carol)).status).toBe(200);
    expect(await k.audit(s.c.id, "member.ban")).toHaveLength(1);
    expect(await k.audit(s.c.id, "member.unban")).toHaveLength(1);
  });

  it("bans a non-member before they join, for a duration; an expired ban no longer holds", async () => {
    const s = await scene();
    const troll = await k.user();
    const both = await k.api("POST", `/v1/tenants/${s.c.id}/bans`, {
      token: s.owner.token,
      body: {
        user_id: troll.id,
        duration_seconds: 60,
        expires_at: new Date(Date.now() + 60_000).toISOString(),
      },
    });
    expect(both.status).toBe(400);
    const past = await k.api("POST", `/v1/tenants/${s.c.id}/bans`, {
      token: s.owner.token,
      body: { user_id: troll.id, expires_at: new Date(Date.now() - 1000).toISOString() },
    });
    expect(past.status).toBe(400);
    const ban = await k.api("POST", `/v1/tenants/${s.c.id}/bans`, {
      token: s.owner.token,
      body: { user_id: troll.id, duration_seconds: 1 },
    });
    expect(ban.status).toBe(201);
    expect((await k.join(s.c.id, troll)).body.error.code).toBe("banned");
    await new Promise((r) => setTimeout(r, 1200));
    expect((await k.join(s.c.id, troll)).status).toBe(200);
  });

  it("leaving: members leave at once; the owner must transfer first", async () => {
    const s = await scene();
    const bobSocket = await pool.connect(t.url, s.bob);
    const ownerSocket = await pool.connect(t.url, s.owner);
    const owner = await k.api("POST", `/v1/tenants/${s.c.id}/leave`, { token: s.owner.token });
    expect(owner.status).toBe(409);
    expect(owner.body.error.code).toBe("owner_must_transfer");

    const left = await k.api("DELETE", `/v1/tenants/${s.c.id}/members/me`, { token: s.bob.token });
    expect(left.status).toBe(204);
    const frame = await ownerSocket.next((f) => f.type === "member_removed" && f.network_id === null, 5000);
    expect(frame).toMatchObject({ user_id: s.bob.id, reason: "left" });
    await bobSocket.next("member_removed", 5000);
    expect(await k.count("peers", s.bob.id)).toBe(0);
    expect((await k.api("POST", `/v1/tenants/${s.c.id}/leave`, { token: s.bob.token })).status).toBe(404);
    expect(await k.audit(s.c.id, "member.leave")).toHaveLength(1);

    k.ok(await k.join(s.c.id, s.bob), 200);
    expect((await k.api("POST", `/v1/tenants/${s.c.id}/leave`, { token: s.bob.token })).status).toBe(204);
  });

  it("roles change through the policy, and ownership moves only by transfer", async () => {
    const s = await scene();
    const ownerSocket = await pool.connect(t.url, s.owner);
    const patch = (by: { token: string }, userId: string, role: string) =>
      k.api("PATCH", `/v1/tenants/${s.c.id}/members/${userId}`, { token: by.token, body: { role } });

    const up = await patch(s.owner, s.bob.id, "admin");
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({ user: { id: s.bob.id }, role: "admin" });
    expect(await ownerSocket.next("member_updated", 5000)).toEqual({
      type: "member_updated",
      tenant_id: s.c.id,
      user_id: s.bob.id,
      role: "admin",
    });
    // bob (admin) may raise carol to admin, not to owner; nor touch his equal or the owner.
    expect((await patch(s.bob, s.carol.id, "owner")).status).toBe(403);
    expect((await patch(s.bob, s.carol.id, "admin")).status).toBe(200);
    expect((await patch(s.bob, s.carol.id, "member")).status).toBe(403);
    expect((await patch(s.bob, s.owner.id, "member")).status).toBe(403);
    expect((await patch(s.owner, s.owner.id, "admin")).status).toBe(403);
    // the moderator may not change roles at all
    expect((await patch(s.mod, s.carol.id, "member")).body.error.code).toBe("forbidden");
    expect((await patch(s.owner, s.bob.id, "superuser")).status).toBe(400);
    // the owner can never be kicked
    const kickOwner = await k.api("DELETE", `/v1/tenants/${s.c.id}/members/${s.owner.id}`, {
      token: s.bob.token,
    });
    expect(kickOwner.status).toBe(403);

    const notMember = await k.user();
    const tr = (by: { token: string }, userId: string) =>
      k.api("POST", `/v1/tenants/${s.c.id}/transfer`, { token: by.token, body: { user_id: userId } });
    expect((await tr(s.bob, s.carol.id)).status).toBe(403);
    expect((await tr(s.owner, notMember.id)).status).toBe(404);
    const moved = await tr(s.owner, s.carol.id);
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ owner_id: s.carol.id, role: "admin" });
    expect(await k.role(s.c.id, s.carol.id)).toBe("owner");
    expect(await k.role(s.c.id, s.owner.id)).toBe("admin");
    const updated = (userId: string, role: string) =>
      ownerSocket.next((f) => f.type === "member_updated" && f.user_id === userId && f.role === role, 5000);
    await updated(s.carol.id, "owner");
    await updated(s.owner.id, "admin");
    // the old owner may leave now; the new one may not
    expect((await k.api("POST", `/v1/tenants/${s.c.id}/leave`, { token: s.carol.token })).status).toBe(409);
    expect((await k.api("POST", `/v1/tenants/${s.c.id}/leave`, { token: s.owner.token })).status).toBe(204);
    expect(await k.audit(s.c.id, "member.transfer")).toHaveLength(1);
    expect((await k.audit(s.c.id, "member.role")).length).toBeGreaterThanOrEqual(2);
  });

  it("pages through members in join order", async () => {
    const s = await scene();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: ApiResponse = await k.api(
        "GET",
        `/v1/tenants/${s.c.id}/members?limit=3${cursor ? `&cursor=${cursor}` : ""}`,
        {
          token: s.bob.token,
        },
      );
      expect(res.status).toBe(200);
      seen.push(...res.body.members.map((m: any) => m.user.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([s.owner.id, s.mod.id, s.bob.id, s.carol.id]);
  });
});
