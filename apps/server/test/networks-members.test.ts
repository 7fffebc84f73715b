import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { backends } from "./helpers/backends.js";
import { clientPool, sleep } from "./helpers/hub-client.js";
import { startTestServer, type TestServer } from "./helpers/server.js";
import { networkFixtures } from "./networks-fixtures.js";

describe.each(backends())("networks: joining, requests, kick, ban, leave ($name)", (backend) => {
  let t: TestServer;
  let f: ReturnType<typeof networkFixtures>;
  let cast: Awaited<ReturnType<ReturnType<typeof networkFixtures>["cast"]>>;
  const pool = clientPool();
  let subnet = 0;
  const cidr = () => `10.${100 + ++subnet}.0.0/24`;
  const memberIds = async (id: string, token: string) =>
    ((await t.api("GET", `/v1/networks/${id}/members`, { token })).body.members as any[]).map(
      (m) => `${m.user.username}:${m.status}`,
    );

  beforeAll(async () => {
    t = await startTestServer(backend);
    f = networkFixtures(t.api);
    cast = await f.cast();
  }, 60_000);
  afterEach(() => pool.closeAll());
  afterAll(() => t.close());

  it("open: a member joins at once; members hear member_joined and the joiner's open socket joins the topic", async () => {
    const id = await f.network(cast.tenant, cast.owner, { cidr: cidr() });
    const owner = await pool.connect(t.url, cast.owner);
    const joiner = await pool.connect(t.url, cast.member);
    expect(f.ok(await f.join(id, cast.member), 201)).toEqual({ network_id: id, status: "active" });
    const joined = await owner.next((x) => x.type === "member_joined" && x.network_id === id, 5000);
    expect(joined).toEqual({
      type: "member_joined",
      tenant_id: cast.tenant,
      network_id: id,
      user: { id: cast.member.id, username: cast.member.username },
      status: "active",
    });
    // the joiner's socket, opened before joining, now hears the network's events
    await joiner.next((x) => x.type === "member_joined" && x.user.id === cast.member.id, 5000);
    await f.joined(id, cast.other);
    await joiner.next((x) => x.type === "member_joined" && x.user.id === cast.other.id, 5000);
    const again = await f.join(id, cast.member);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("already_member");
    expect((await t.api("GET", `/v1/networks/${id}`, { token: cast.member.token })).body).toMatchObject({
      my_status: "active",
      member_count: 3,
    });
  });

  it("approval: a request waits; moderators (not members) hear join_request; approve and deny answer it", async () => {
    const id = await f.network(cast.tenant, cast.owner, { cidr: cidr(), join_policy: "approval" });
    const moderator = await pool.connect(t.url, cast.moderator);
    const bystander = await pool.connect(t.url, cast.other);
    const requester = await pool.connect(t.url, cast.member);
    expect(f.ok(await f.join(id, cast.member), 201)).toEqual({ network_id: id, status: "pending" });
    expect(await moderator.next("join_request", 5000)).toEqual({
      type: "join_request",
      tenant_id: cast.tenant,
      network_id: id,
      user: { id: cast.member.id, username: cast.member.username },
    });
    expect((await f.join(id, cast.member)).body.error.code).toBe("already_member");
    // pending requests show to moderators only
    expect(await memberIds(id, cast.moderator.token)).toEqual([
      `${cast.owner.username}:active`,
      `${cast.member.username}:pending`,
    ]);
    expect(await memberIds(id, cast.member.token)).toEqual([`${cast.owner.username}:active`]);
    // members may not answer requests
    const byMember = await t.api("POST", `/v1/networks/${id}/approve`, {
      token: cast.other.token,
      body: { user_id: cast.member.id },
    });
    expect(byMember.status).toBe(403);

    const approved = await t.api("POST", `/v1/networks/${id}/approve`, {
      token: cast.moderator.token,
      body: { user_id: cast.member.id },
    });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ user: { id: cast.member.id }, role: "member", status: "active" });
    await requester.next((x) => x.type === "member_joined" && x.network_id === id, 5000);
    const again = await t.api("POST", `/v1/networks/${id}/approve`, {
      token: cast.moderator.token,
      body: { user_id: cast.member.id },
    });
    expect(again.body.error.code).toBe("already_member");

    // deny: the request goes, the requester hears join_denied on their own topic
    f.ok(await f.join(id, cast.other), 201);
    const denied = await t.api("POST", `/v1/networks/${id}/deny`, {
      token: cast.moderator.token,
      body: { user_id: cast.other.id },
    });
    expect(denied.status).toBe(204);
    expect(await bystander.next("join_denied", 5000)).toEqual({
      type: "join_denied",
      tenant_id: cast.tenant,
      network_id: id,
    });
    expect(await memberIds(id, cast.moderator.token)).not.toContain(`${cast.other.username}:pending`);
    const twice = await t.api("POST", `/v1/networks/${id}/deny`, {
      token: cast.moderator.token,
      body: { user_id: cast.other.id },
    });
    expect(twice.status).toBe(404);
    // the join request never reached plain members
    expect(bystander.all.filter((x) => x.type === "join_request")).toEqual([]);
  });

  it("invite: joining is refused; a moderator adds a member directly; required_role holds everywhere", async () => {
    const id = await f.network(cast.tenant, cast.owner, { cidr: cidr(), join_policy: "invite" });
    const refused = await f.join(id, cast.member);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({
      code: "forbidden",
      message: "This network takes members by invite only",
    });
    f.ok(
      await t.api("POST", `/v1/networks/${id}/approve`, {
        token: cast.moderator.token,
        body: { user_id: cast.member.id },
      }),
      200,
    );
    expect(await memberIds(id, cast.member.token)).toContain(`${cast.member.username}:active`);

    const mods = await f.network(cast.tenant, cast.owner, { cidr: cidr(), required_role: "moderator" });
    // invisible to a plain member: 404, as for a random id
    expect((await f.join(mods, cast.member)).status).toBe(404);
    const low = await t.api("POST", `/v1/networks/${mods}/approve`, {
      token: cast.admin.token,
      body: { user_id: cast.member.id },
    });
    expect(low.status).toBe(403);
    expect((await f.join(mods, cast.moderator)).body.status).toBe("active");
    // someone outside the community cannot be added
    const outsider = await f.user();
    const out = await t.api("POST", `/v1/networks/${id}/approve`, {
      token: cast.admin.token,
      body: { user_id: outsider.id },
    });
    expect(out.status).toBe(404);
  });

  it("kick on live sockets: the member and everyone else hear it, their devices go, and their socket leaves the topic", async () => {
    const id = await f.network(cast.tenant, cast.owner, { cidr: cidr() });
    await f.joined(id, cast.member);
    await f.joined(id, cast.other);
    const device = await f.device(cast.member, "kicked-laptop");
    const peer = await f.peer(id, cast.member, device.id);
    const victim = await pool.connect(t.url, cast.member);
    const witness = await pool.connect(t.url, cast.other);

    // nobody acts on their equal or better
    for (const [by, target] of [
      [cast.other, cast.member],
      [cast.moderator, cast.moderator],
      [cast.moderator, cast.admin],
      [cast.admin, cast.owner],
    ] as const) {
      const res = await t.api("POST", `/v1/networks/${id}/kick`, {
        token: by.token,
        body: { user_id: target.id },
      });
      expect(res.status, `${by.username} kicks ${target.username}`).toBe(403);
    }

    expect(
      (
        await t.api("POST", `/v1/networks/${id}/kick`, {
          token: cast.moderator.token,
          body: { user_id: cast.member.id },
        })
      ).status,
    ).toBe(204);
    const removed = {
      type: "member_removed",
      tenant_id: cast.tenant,
      network_id: id,
      user_id: cast.member.id,
      reason: "kicked",
    };
    const gone = {
      type: "peer_removed",
      network_id: id,
      peer_id: peer.id,
      device_id: device.id,
      user_id: cast.member.id,
    };
    for (const socket of [victim, witness]) {
      expect(await socket.next("member_removed", 5000)).toEqual(removed);
      expect(await socket.next("peer_removed", 5000)).toEqual(gone);
    }
    expect(await memberIds(id, cast.owner.token)).not.toContain(`${cast.member.username}:active`);
    // the kicked socket no longer hears the network: the next event reaches the witness only
    await f.joined(id, cast.admin);
    await witness.next((x) => x.type === "member_joined" && x.user.id === cast.admin.id, 5000);
    await sleep(200);
    expect(victim.all.filter((x) => x.type === "member_joined")).toEqual([]);
    // the device's address is free again
    const again = await f.device(cast.other, "next");
    expect((await f.peer(id, cast.other, again.id)).address).toBe(peer.address);
    // the kicked member may join again (open network), unlike a banned one
    expect((await f.join(id, cast.member)).status).toBe(201);
    const notThere = await t.api("POST", `/v1/networks/${id}/kick`, {
      token: cast.admin.token,
      body: { user_id: cast.moderator.id },
    });
    expect(notThere.status).toBe(404);
  });

  it("ban: removes at once with reason and end, keeps the user out by every path until lifted or over", async () => {
    const id = await f.network(cast.tenant, cast.owner, { cidr: cidr() });
    await f.joined(id, cast.member);
    const victim = await pool.connect(t.url, cast.member);
    const both = await t.api("POST", `/v1/networks/${id}/ban`, {
      token: cast.moderator.token,
      body: {
        user_id: cast.member.id,
        expires_at: new Date(Date.now() + 60_000).toISOString(),
        duration_seconds: 5,
      },
    });
    expect(both.status).toBe(400);
    const past = await t.api("POST", `/v1/networks/${id}/ban`, {
      token: cast.moderator.token,
      body: { user_id: cast.member.id, expires_at: new Date(Date.now() - 60_000).toISOString() },
    });
    expect(past.status).toBe(400);
    expect(
      (
        await t.api("POST", `/v1/networks/${id}/ban`, {
          token: cast.other.token,
          body: { user_id: cast.member.id },
        })
      ).status,
    ).toBe(403);

    const ban = await t.api("POST", `/v1/networks/${id}/ban`, {
      token: cast.moderator.token,
      body: { user_id: cast.member.id, reason: "spam", duration_seconds: 3600 },
    });
    expect(ban.status).toBe(201);
    expect(ban.body).toMatchObject({
      network_id: id,
      user_id: cast.member.id,
      reason: "spam",
      by_id: cast.moderator.id,
    });
    const frame = await victim.next("member_removed", 5000);
    expect(frame).toMatchObject({
      reason: "banned",
      ban_reason: "spam",
      until: ban.body.until,
      network_id: id,
    });
    expect(Date.parse(ban.body.until)).toBeGreaterThan(Date.now() + 3500_000);

    const rejoin = await f.join(id, cast.member);
    expect(rejoin.status).toBe(403);
    expect(rejoin.body.error).toMatchObject({ code: "banned", details: { until: ban.body.until } });
    const add = await t.api("POST", `/v1/networks/${id}/approve`, {
      token: cast.admin.token,
      body: { user_id: cast.member.id },
    });
    expect(add.body.error.code).toBe("banned");

    const listed = await t.api("GET", `/v1/networks/${id}/bans`, { token: cast.moderator.token });
    expect(listed.status).toBe(200);
    expect(listed.body.bans).toEqual([
      expect.objectContaining({ network_id: id, user_id: cast.member.id, until: ban.body.until }),
    ]);
    expect((await t.api("GET", `/v1/networks/${id}/bans`, { token: cast.other.token })).status).toBe(403);
    expect(
      (await t.api("DELETE", `/v1/networks/${id}/bans/${cast.member.id}`, { token: cast.other.token }))
        .status,
    ).toBe(403);
    expect(
      (await t.api("DELETE", `/v1/networks/${id}/bans/${cast.member.id}`, { token: cast.moderator.token }))
        .status,
    ).toBe(204);
    expect(
      (await t.api("DELETE", `/v1/networks/${id}/bans/${cast.member.id}`, { token: cast.moderator.token }))
        .status,
    ).toBe(404);
    expect(
      (await t.api("GET", `/v1/networks/${id}/bans`, { token: cast.moderator.token })).body.bans,
    ).toEqual([]);
    expect((await f.join(id, cast.member)).status).toBe(201);

    // a short ban ends by itself; banning someone not (yet) in the network works too
    const short = await t.api("POST", `/v1/networks/${id}/ban`, {
      token: cast.moderator.token,
      body: { user_id: cast.other.id, duration_seconds: 1 },
    });
    expect(short.status).toBe(201);
    expect((await f.join(id, cast.other)).body.error.code).toBe("banned");
    await sleep(1200);
    expect((await f.join(id, cast.other)).status).toBe(201);
  });

  it("leave: the member and their devices go; withdrawing a request works the same; twice is 404", async () => {
    const id = await f.network(cast.tenant, cast.owner, { cidr: cidr() });
    await f.joined(id, cast.member);
    const device = await f.device(cast.member, "leaving");
    const peer = await f.peer(id, cast.member, device.id);
    const owner = await pool.connect(t.url, cast.owner);
    expect((await t.api("POST", `/v1/networks/${id}/leave`, { token: cast.member.token })).status).toBe(204);
    expect(await owner.next("member_removed", 5000)).toMatchObject({
      user_id: cast.member.id,
      reason: "left",
    });
    expect(await owner.next("peer_removed", 5000)).toMatchObject({ peer_id: peer.id });
    expect((await t.api("POST", `/v1/networks/${id}/leave`, { token: cast.member.token })).status).toBe(404);

    const approval = await f.network(cast.tenant, cast.owner, { cidr: cidr(), join_policy: "approval" });
    f.ok(await f.join(approval, cast.member), 201);
    expect((await t.api("POST", `/v1/networks/${approval}/leave`, { token: cast.member.token })).status).toBe(
      204,
    );
    expect(await memberIds(approval, cast.owner.token)).toEqual([`${cast.owner.username}:active`]);
  });
});
