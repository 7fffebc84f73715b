import { uuidv7 } from "@warren/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { backends } from "./helpers/backends.js";
import { clientPool } from "./helpers/hub-client.js";
import { type ApiResponse, startTestServer, type TestServer, uniqueName } from "./helpers/server.js";
import { tenantKit } from "./helpers/tenants.js";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe.each(backends())("communities: create, list, discover, change, delete, join on $name", (backend) => {
  let t: TestServer;
  const k = tenantKit(() => t);
  const pool = clientPool();
  beforeAll(async () => {
    t = await startTestServer(backend, { ROOM_PASSWORD_MAX_FAILURES: "3" });
  });
  afterEach(async () => pool.closeAll());
  afterAll(async () => t?.close());

  it("creates a community with defaults; the creator is its owner", async () => {
    const owner = await k.user();
    const res = await k.api("POST", "/v1/tenants", { token: owner.token, body: { name: "LAN Party" } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      name: "LAN Party",
      description: "",
      visibility: "private",
      access: "invite_only",
      owner_id: owner.id,
      created_at: expect.stringMatching(ISO),
      updated_at: res.body.created_at,
      role: "owner",
      member_count: 1,
    });
    expect(await k.role(res.body.id, owner.id)).toBe("owner");
    expect(await k.audit(res.body.id, "tenant.create")).toHaveLength(1);

    const mine = await k.api("GET", "/v1/tenants", { token: owner.token });
    expect(mine.status).toBe(200);
    expect(mine.body).toEqual({ tenants: [res.body], next_cursor: null });
    expect((await k.api("GET", `/v1/tenants/${res.body.id}`, { token: owner.token })).body).toEqual(res.body);
  });

  it("checks bodies: name length, password needed for access=password, no password otherwise", async () => {
    const owner = await k.user();
    const post = (body: unknown) => k.api("POST", "/v1/tenants", { token: owner.token, body });
    expect((await post({ name: "" })).status).toBe(400);
    expect((await post({ name: "x".repeat(65) })).status).toBe(400);
    expect((await post({ name: "ok", description: "d".repeat(501) })).status).toBe(400);
    expect((await post({ name: "ok", visibility: "secret" })).status).toBe(400);
    const noPassword = await post({ name: "ok", access: "password" });
    expect(noPassword.status).toBe(400);
    expect(noPassword.body.error.code).toBe("invalid_request");
    expect((await k.api("POST", "/v1/tenants", { body: { name: "x" } })).status).toBe(401);
    const c = await k.community(owner, { access: "open" });
    const patch = await k.api("PATCH", `/v1/tenants/${c.id}`, {
      token: owner.token,
      body: { password: "hunter2hunter2" },
    });
    expect(patch.status).toBe(400);
    const toPassword = await k.api("PATCH", `/v1/tenants/${c.id}`, {
      token: owner.token,
      body: { access: "password" },
    });
    expect(toPassword.status).toBe(400);
  });

  it("discovers public communities by name, case-insensitively, in pages ordered by name", async () => {
    const owner = await k.user();
    const stranger = await k.user();
    const tag = uniqueName("zq").toLowerCase();
    const names = ["b", "A", "c", "d", "E"].map((p) => `${p}-${tag}`);
    for (const name of names) await k.community(owner, { name, visibility: "public" });
    const hidden = await k.community(owner, { name: `f-${tag}`, visibility: "private" });
    // LIKE wildcards in the query match themselves only.
    await k.community(owner, { name: `g-${tag}_%`, visibility: "public" });

    const seen: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = `?discover=1&q=${tag.toUpperCase()}&limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const res: ApiResponse = await k.api("GET", `/v1/tenants${q}`, { token: stranger.token });
      expect(res.status).toBe(200);
      expect(res.body.tenants.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.tenants);
      cursor = res.body.next_cursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(seen.map((x) => x.name)).toEqual(
      [...names, `g-${tag}_%`].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())),
    );
    expect(pages).toBe(3);
    expect(seen.every((x) => x.role === null && x.member_count === 1)).toBe(true);
    expect(seen.some((x) => x.id === hidden.id)).toBe(false);

    const wild = await k.api("GET", `/v1/tenants?discover=1&q=${encodeURIComponent(`${tag}_%`)}`, {
      token: stranger.token,
    });
    expect(wild.body.tenants.map((x: any) => x.name)).toEqual([`g-${tag}_%`]);
    const percent = await k.api("GET", `/v1/tenants?discover=1&q=${encodeURIComponent("%")}${tag}`, {
      token: stranger.token,
    });
    expect(percent.body.tenants).toEqual([]);

    // The owner's own listing holds all of them, the stranger's none.
    expect((await k.api("GET", "/v1/tenants", { token: stranger.token })).body.tenants).toEqual([]);
    const bad = await k.api("GET", "/v1/tenants?discover=1&cursor=nonsense", { token: stranger.token });
    expect(bad.status).toBe(400);
    expect((await k.api("GET", "/v1/tenants?discover=1&limit=101", { token: stranger.token })).status).toBe(
      400,
    );
  });

  it("shows a public community to anyone (read-only) and hides a private one (404)", async () => {
    const owner = await k.user();
    const stranger = await k.user();
    const pub = await k.community(owner, { visibility: "public" });
    const priv = await k.community(owner, { visibility: "private" });
    const got = await k.api("GET", `/v1/tenants/${pub.id}`, { token: stranger.token });
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: pub.id, role: null, member_count: 1 });
    const members = await k.api("GET", `/v1/tenants/${pub.id}/members`, { token: stranger.token });
    expect(members.status).toBe(403);
    const hidden = await k.api("GET", `/v1/tenants/${priv.id}`, { token: stranger.token });
    expect(hidden.status).toBe(404);
    expect(hidden.body.error.code).toBe("not_found");
    const random = await k.api("GET", `/v1/tenants/${uuidv7()}`, { token: stranger.token });
    expect(random.body).toEqual(hidden.body);
    expect((await k.api("GET", `/v1/tenants/${priv.id}/members`, { token: stranger.token })).status).toBe(
      404,
    );
  });

  it("lets admins change settings; the change is audited without the password", async () => {
    const owner = await k.user();
    const c = await k.community(owner);
    const res = await k.api("PATCH", `/v1/tenants/${c.id}`, {
      token: owner.token,
      body: {
        name: "Renamed",
        description: "new",
        visibility: "public",
        access: "password",
        password: "open sesame",
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      name: "Renamed",
      description: "new",
      visibility: "public",
      access: "password",
    });
    expect(res.body.updated_at >= c.updated_at).toBe(true);
    const [row] = await k.audit(c.id, "tenant.update");
    expect(row?.details).not.toContain("open sesame");
    expect(JSON.parse(row?.details ?? "{}")).toMatchObject({ name: "Renamed", password_changed: true });
    expect((await k.api("PATCH", `/v1/tenants/${c.id}`, { token: owner.token, body: {} })).status).toBe(400);
  });

  it("joins an open community at once; twice is already_member; members hear of it", async () => {
    const owner = await k.user();
    const bob = await k.user();
    const c = await k.community(owner, { access: "open", visibility: "public" });
    const joined = await k.join(c.id, bob);
    expect(joined.status).toBe(200);
    expect(joined.body).toMatchObject({ id: c.id, role: "member", member_count: 2 });
    // POST …/members, the older path kept for compatibility, does the same
    const again = await k.api("POST", `/v1/tenants/${c.id}/members`, { token: bob.token, body: {} });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("already_member");
    const list = await k.api("GET", `/v1/tenants/${c.id}/members`, { token: bob.token });
    expect(list.body.members.map((m: any) => [m.user.id, m.role])).toEqual([
      [owner.id, "owner"],
      [bob.id, "member"],
    ]);
    expect(list.body.members[1]).toEqual({
      user: { id: bob.id, username: bob.username },
      role: "member",
      joined_at: expect.stringMatching(ISO),
    });
    expect(await k.audit(c.id, "member.join")).toHaveLength(1);
  });

  it("joins a password community with the right password; wrong ones are 403 then 429", async () => {
    const owner = await k.user();
    const bob = await k.user();
    const carol = await k.user();
    const c = await k.community(owner, { access: "password", password: "open sesame", visibility: "public" });
    const none = await k.join(c.id, bob);
    expect(none.status).toBe(403);
    expect(none.body.error.code).toBe("invalid_password");
    expect((await k.join(c.id, bob, { password: "wrong one" })).body.error.code).toBe("invalid_password");
    expect((await k.join(c.id, bob, { password: "wrong two" })).body.error.code).toBe("invalid_password");
    // three failures (ROOM_PASSWORD_MAX_FAILURES=3): even the right password waits now
    const limited = await k.join(c.id, bob, { password: "open sesame" });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe("rate_limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await k.role(c.id, bob.id)).toBeUndefined();
    // counted per user: carol is not held back by bob's guesses
    const ok = await k.join(c.id, carol, { password: "open sesame" });
    expect(ok.status).toBe(200);
    expect(ok.body.role).toBe("member");
  });

  it("an invite-only community needs an invite; a private one is 404 without one", async () => {
    const owner = await k.user();
    const bob = await k.user();
    const inviteOnly = await k.community(owner, { access: "invite_only", visibility: "public" });
    const needs = await k.join(inviteOnly.id, bob);
    expect(needs.status).toBe(403);
    expect(needs.body.error.code).toBe("forbidden");
    const bad = await k.join(inviteOnly.id, bob, { invite_code: "not-a-code-at-all" });
    expect(bad.status).toBe(404);
    expect(bad.body.error.code).toBe("invalid_invite");

    const priv = await k.community(owner, { access: "open", visibility: "private" });
    const hidden = await k.join(priv.id, bob);
    expect(hidden.status).toBe(404);
    expect(hidden.body.error.code).toBe("not_found");
    const hiddenBadCode = await k.join(priv.id, bob, { invite_code: "not-a-code-at-all" });
    expect(hiddenBadCode.body.error.code).toBe("not_found");
    // An invite of another community does not open this one.
    const other = k.ok(await k.invite(inviteOnly.id, owner), 201);
    expect((await k.join(priv.id, bob, { invite_code: other.code })).body.error.code).toBe("not_found");
    const invite = k.ok(await k.invite(priv.id, owner), 201);
    const joined = await k.join(priv.id, bob, { invite_code: invite.code });
    expect(joined.status).toBe(200);
    expect(joined.body).toMatchObject({ id: priv.id, role: "member", visibility: "private" });
  });

  it("deletes a community (owner only): members hear tenant_deleted and it is gone", async () => {
    const owner = await k.user();
    const admin = await k.user();
    const c = await k.community(owner);
    await k.member(c.id, admin, "admin", owner);
    const socket = await pool.connect(t.url, admin);
    const refused = await k.api("DELETE", `/v1/tenants/${c.id}`, { token: admin.token });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("forbidden");
    const del = await k.api("DELETE", `/v1/tenants/${c.id}`, { token: owner.token });
    expect(del.status).toBe(204);
    expect(await socket.next("tenant_deleted", 5000)).toEqual({ type: "tenant_deleted", tenant_id: c.id });
    expect((await k.api("GET", `/v1/tenants/${c.id}`, { token: owner.token })).status).toBe(404);
    expect((await k.api("GET", "/v1/tenants", { token: admin.token })).body.tenants).toEqual([]);
    expect(await k.audit(c.id, "tenant.delete")).toHaveLength(1);
  });
});
