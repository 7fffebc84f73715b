import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { backends } from "./helpers/backends.js";
import { clientPool } from "./helpers/hub-client.js";
import { startTestServer, type TestServer } from "./helpers/server.js";
import { networkFixtures, RANDOM_ID } from "./networks-fixtures.js";

describe.each(backends())("networks: create, read, change, delete ($name)", (backend) => {
  let t: TestServer;
  let f: ReturnType<typeof networkFixtures>;
  let cast: Awaited<ReturnType<ReturnType<typeof networkFixtures>["cast"]>>;
  const pool = clientPool();

  beforeAll(async () => {
    t = await startTestServer(backend);
    f = networkFixtures(t.api);
    cast = await f.cast();
  }, 60_000);
  afterEach(() => pool.closeAll());
  afterAll(() => t.close());

  it("admins create networks with defaults and a normalised range; the creator is the first member", async () => {
    const res = await f.createNetwork(cast.tenant, cast.admin, { cidr: "10.20.0.77/24", description: "lan" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      tenant_id: cast.tenant,
      cidr: "10.20.0.0/24",
      description: "lan",
      visibility: "private",
      join_policy: "invite",
      required_role: "member",
      allocation: "sequential",
      my_status: "active",
      member_count: 1,
    });
    const got = await t.api("GET", `/v1/networks/${res.body.id}`, { token: cast.admin.token });
    expect(got.body).toEqual(res.body);
    const members = await t.api("GET", `/v1/networks/${res.body.id}/members`, { token: cast.admin.token });
    expect(members.body.members.map((m: any) => [m.user.id, m.status, m.role])).toEqual([
      [cast.admin.id, "active", "admin"],
    ]);
  });

  it("moderators and members may not create networks (403)", async () => {
    for (const who of [cast.moderator, cast.member]) {
      const res = await f.createNetwork(cast.tenant, who, { cidr: "10.21.0.0/24" });
      expect(res.status, who.username).toBe(403);
      expect(res.body.error.code).toBe("forbidden");
    }
  });

  it("refuses every malformed or disallowed range with 400 invalid_request naming the problem", async () => {
    const cases: [string, RegExp][] = [
      ["10.0.0.0", /must look like/],
      ["2001:db8::/64", /must look like/],
      ["10.0.0.300/24", /not an IPv4 address/],
      ["10.0.0.0/7", /\/8 to \/30/],
      ["10.0.0.0/31", /\/8 to \/30/],
      ["10.0.0.0/32", /\/8 to \/30/],
      ["8.8.8.0/24", /private or shared range/],
      ["172.32.0.0/16", /private or shared range/],
      ["100.128.0.0/16", /private or shared range/],
      ["192.168.0.0/15", /private or shared range/],
    ];
    for (const [cidr, message] of cases) {
      const res = await f.createNetwork(cast.tenant, cast.owner, { cidr });
      expect(res.status, cidr).toBe(400);
      expect(res.body.error.code, cidr).toBe("invalid_request");
      expect(res.body.error.message, cidr).toMatch(message);
    }
    // the four allowed spaces at their widest, and a /30
    for (const cidr of ["172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "10.254.0.4/30"]) {
      expect((await f.createNetwork(cast.tenant, cast.owner, { cidr })).status, cidr).toBe(201);
    }
  });

  it("refuses a range overlapping another network of the community (409 cidr_overlap), on create and on change", async () => {
    const a = await f.network(cast.tenant, cast.owner, { cidr: "10.30.0.0/16" });
    for (const cidr of ["10.30.5.0/24", "10.30.0.0/16", "10.30.255.252/30"]) {
      const res = await f.createNetwork(cast.tenant, cast.owner, { cidr });
      expect(res.status, cidr).toBe(409);
      expect(res.body.error).toMatchObject({
        code: "cidr_overlap",
        details: { network_id: a, cidr: "10.30.0.0/16" },
      });
    }
    const wide = await f.createNetwork(cast.tenant, cast.owner, { cidr: "10.0.0.0/8" });
    expect(wide.body.error.code).toBe("cidr_overlap");
    const b = await f.network(cast.tenant, cast.owner, { cidr: "10.31.0.0/24" });
    const moved = await t.api("PATCH", `/v1/networks/${b}`, {
      token: cast.owner.token,
      body: { cidr: "10.30.9.0/24" },
    });
    expect(moved.status).toBe(409);
    expect(moved.body.error.code).toBe("cidr_overlap");
    // the same range in another community is fine
    const other = await f.community(cast.owner);
    expect((await f.createNetwork(other, cast.owner, { cidr: "10.30.0.0/16" })).status).toBe(201);
  });

  it("changes fields for admins; the range only while no device or reservation is in it (409 network_in_use)", async () => {
    const id = await f.network(cast.tenant, cast.owner, { cidr: "10.40.0.0/24" });
    const res = await t.api("PATCH", `/v1/networks/${id}`, {
      token: cast.admin.token,
      body: { name: "renamed", cidr: "10.41.0.9/24", join_policy: "approval", allocation: "random" },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      name: "renamed",
      cidr: "10.41.0.0/24",
      join_policy: "approval",
      allocation: "random",
    });
    expect(
      (await t.api("PATCH", `/v1/networks/${id}`, { token: cast.moderator.token, body: { name: "x" } }))
        .status,
    ).toBe(403);
    expect((await t.api("PATCH", `/v1/networks/${id}`, { token: cast.admin.token, body: {} })).status).toBe(
      400,
    );
    const bad = await t.api("PATCH", `/v1/networks/${id}`, {
      token: cast.admin.token,
      body: { cidr: "1.2.3.0/24" },
    });
    expect(bad.body.error.code).toBe("invalid_request");

    const reserved = await t.api("POST", `/v1/networks/${id}/reservations`, {
      token: cast.admin.token,
      body: { address: "10.41.0.10" },
    });
    expect(reserved.status).toBe(201);
    const blocked = await t.api("PATCH", `/v1/networks/${id}`, {
      token: cast.admin.token,
      body: { cidr: "10.42.0.0/24" },
    });
    expect(blocked.status).toBe(409);
    expect(blocked.body.error.code).toBe("network_in_use");
    // the same range again (or the name alone) is no change of range
    expect(
      (
        await t.api("PATCH", `/v1/networks/${id}`, {
          token: cast.admin.token,
          body: { cidr: "10.41.0.0/24" },
        })
      ).status,
    ).toBe(200);
  });

  it("lists what each role may see: public networks meeting their role, their own, everything for admins", async () => {
    const tenant = await f.community(cast.owner);
    await f.member(tenant, cast.admin, "admin", cast.owner);
    await f.member(tenant, cast.moderator, "moderator", cast.owner);
    await f.member(tenant, cast.member, "member", cast.owner);
    const pub = await f.network(tenant, cast.owner, { cidr: "10.50.0.0/24", visibility: "public" });
    const priv = await f.network(tenant, cast.owner, { cidr: "10.51.0.0/24", visibility: "private" });
    const mods = await f.network(tenant, cast.owner, {
      cidr: "10.52.0.0/24",
      visibility: "public",
      required_role: "moderator",
    });
    await f.privatize(tenant, cast.owner);
    const ids = async (token: string) =>
      ((await t.api("GET", `/v1/tenants/${tenant}/networks`, { token })).body.networks as any[]).map(
        (n) => n.id,
      );
    expect(await ids(cast.owner.token)).toEqual([pub, priv, mods]);
    expect(await ids(cast.admin.token)).toEqual([pub, priv, mods]);
    expect(await ids(cast.moderator.token)).toEqual([pub, mods]);
    expect(await ids(cast.member.token)).toEqual([pub]);
    // invisible ones answer 404 exactly like a random id
    for (const id of [priv, mods, RANDOM_ID]) {
      const res = await t.api("GET", `/v1/networks/${id}`, { token: cast.member.token });
      expect(res.status).toBe(404);
      expect(res.body.error).toEqual({ code: "not_found", message: "No such network" });
    }
    // a member added to the private network sees it from then on, with their status and the count
    f.ok(
      await t.api("POST", `/v1/networks/${priv}/approve`, {
        token: cast.admin.token,
        body: { user_id: cast.member.id },
      }),
      200,
    );
    expect(await ids(cast.member.token)).toEqual([pub, priv]);
    const seen = (await t.api("GET", `/v1/networks/${priv}`, { token: cast.member.token })).body;
    expect(seen).toMatchObject({ my_status: "active", member_count: 2 });
    // not a member of the community: 404 (private) for the listing
    const outsider = await f.user();
    expect((await t.api("GET", `/v1/tenants/${tenant}/networks`, { token: outsider.token })).status).toBe(
      404,
    );
  });

  it("changing a network tells its members' sockets what changed (network_updated)", async () => {
    const id = await f.network(cast.tenant, cast.owner, { cidr: "10.61.0.0/24" });
    await f.joined(id, cast.member);
    const socket = await pool.connect(t.url, cast.member);
    const res = await t.api("PATCH", `/v1/networks/${id}`, {
      token: cast.admin.token,
      body: { name: "renamed", join_policy: "approval" },
    });
    expect(res.status).toBe(200);
    const frame = await socket.next("network_updated", 5000);
    expect(frame).toEqual({
      type: "network_updated",
      network_id: id,
      tenant_id: cast.tenant,
      changes: { name: "renamed", join_policy: "approval" },
    });
  });

  it("deleting a network tells its members' sockets (network_deleted) and only admins may do it", async () => {
    const id = await f.network(cast.tenant, cast.owner, { cidr: "10.60.0.0/24" });
    await f.joined(id, cast.member);
    const socket = await pool.connect(t.url, cast.member);
    expect((await t.api("DELETE", `/v1/networks/${id}`, { token: cast.moderator.token })).status).toBe(403);
    expect((await t.api("DELETE", `/v1/networks/${id}`, { token: cast.admin.token })).status).toBe(204);
    const frame = await socket.next("network_deleted", 5000);
    expect(frame).toEqual({ type: "network_deleted", network_id: id, tenant_id: cast.tenant });
    expect((await t.api("GET", `/v1/networks/${id}`, { token: cast.admin.token })).status).toBe(404);
    expect((await t.api("DELETE", `/v1/networks/${id}`, { token: cast.admin.token })).status).toBe(404);
  });

  it("isolation: a member of another community gets 404 for every route on this community's networks", async () => {
    const id = await f.network(cast.tenant, cast.owner, { cidr: "10.70.0.0/24", join_policy: "approval" });
    expect(f.ok(await f.join(id, cast.member), 201).status).toBe("pending");
    const stranger = await f.user();
    const theirs = await f.community(stranger);
    await f.network(theirs, stranger, { cidr: "10.70.0.0/24" });
    const device = await f.device(stranger);
    const reservation = await t.api("POST", `/v1/networks/${id}/reservations`, {
      token: cast.owner.token,
      body: { address: "10.70.0.9" },
    });
    expect(reservation.status).toBe(201);
    const requests: [string, string, unknown?][] = [
      ["GET", `/v1/networks/${id}`],
      ["PATCH", `/v1/networks/${id}`, { name: "mine" }],
      ["DELETE", `/v1/networks/${id}`],
      ["POST", `/v1/networks/${id}/join`],
      ["GET", `/v1/networks/${id}/members`],
      ["POST", `/v1/networks/${id}/approve`, { user_id: cast.member.id }],
      ["POST", `/v1/networks/${id}/deny`, { user_id: cast.member.id }],
      ["POST", `/v1/networks/${id}/kick`, { user_id: cast.member.id }],
      ["POST", `/v1/networks/${id}/ban`, { user_id: cast.member.id }],
      ["DELETE", `/v1/networks/${id}/bans/${cast.member.id}`],
      ["POST", `/v1/networks/${id}/leave`],
      ["POST", `/v1/networks/${id}/peers`, { device_id: device.id }],
      ["GET", `/v1/networks/${id}/reservations`],
      ["POST", `/v1/networks/${id}/reservations`, { address: "10.70.0.20" }],
      ["DELETE", `/v1/networks/${id}/reservations/10.70.0.9`],
      ["GET", `/v1/tenants/${cast.tenant}/networks`],
      ["POST", `/v1/tenants/${cast.tenant}/networks`, { name: "x", cidr: "10.71.0.0/24" }],
    ];
    for (const [method, path, body] of requests) {
      const res = await t.api(method, path, {
        token: stranger.token,
        ...(body === undefined ? {} : { body }),
      });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
    // nothing changed
    const net = await t.api("GET", `/v1/networks/${id}`, { token: cast.owner.token });
    expect(net.body.name).not.toBe("mine");
    const members = await t.api("GET", `/v1/networks/${id}/members`, { token: cast.owner.token });
    expect(members.body.members.map((m: any) => m.user.id)).toContain(cast.member.id);
  });
});
