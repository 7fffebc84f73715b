import { Secret, TOTP } from "otpauth";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "./chat-fixtures.js";
import { backends } from "./helpers/backends.js";
import { clientPool, type HubUser, hubUser } from "./helpers/hub-client.js";
import { ed25519Pair, x25519Public } from "./helpers/keys.js";
import { PASSWORD, register, startTestServer, type TestServer, uniqueName } from "./helpers/server.js";

const WAIT = 8000;

/** The TOTP code of the current step, made away from a step boundary. */
async function currentCode(secret: string): Promise<string> {
  const into = Date.now() % 30_000;
  if (into > 28_000) await new Promise((r) => setTimeout(r, 30_000 - into + 20));
  return new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: "SHA1" }).generate();
}

describe.each(backends())("data rights on $name", (backend) => {
  let t: TestServer;
  let f: ReturnType<typeof fixtures>;
  const pool = clientPool();

  beforeAll(async () => {
    t = await startTestServer(backend);
    f = fixtures(t.api);
  });
  afterEach(async () => pool.closeAll());
  afterAll(async () => t?.close());

  const db = () => t.server.database.db;
  const deleteMe = (user: HubUser, body: unknown) => t.api("DELETE", "/v1/me", { token: user.token, body });

  it("exports everything held about me, and no secret", async () => {
    const reg = await register(t.api, { email: `${uniqueName("e")}@example.org`, display_name: "Me" });
    const me: HubUser = { id: reg.user.id, username: reg.user.username, token: reg.tokens.access_token };
    const x25519 = x25519Public();
    f.ok(
      await t.api("POST", "/v1/auth/keys", { token: me.token, body: { kind: "x25519", public_key: x25519 } }),
      201,
    );
    const setup = f.ok(await t.api("POST", "/v1/auth/totp", { token: me.token }), 200);
    const confirmed = f.ok(
      await t.api("POST", "/v1/auth/totp/confirm", {
        token: me.token,
        body: { code: await currentCode(setup.secret) },
      }),
      200,
    );

    const owner = await hubUser(t.api);
    const tenant = await f.community(owner);
    await f.join(tenant, me);
    const network = await f.network(tenant, owner);
    await f.joinNetwork(network, me);
    const device = await f.device(me, "my laptop");
    const peer = await f.peer(network, me, device.id);
    const message = (await f.post(`/v1/networks/${network}/messages`, me, "my words")).body;
    const mine = await f.community(me);
    const invite = f.ok(
      await t.api("POST", `/v1/tenants/${mine}/invites`, { token: me.token, body: { max_uses: 3 } }),
      201,
    );
    const ws = await pool.connect(t.url, me);
    const room = (await ws.request({ type: "room.create", name: "my den" })).result.room;

    const res = await t.api("GET", "/v1/me/export", { token: me.token });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="warren-export-.+\.json"$/);
    const data = res.body;
    expect(data.profile).toEqual({
      id: me.id,
      username: me.username,
      email: expect.stringContaining("@example.org"),
      display_name: "Me",
      has_password: true,
      totp_enabled: true,
      totp_enabled_at: expect.any(String),
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(data.public_keys).toEqual([
      expect.objectContaining({ kind: "x25519", public_key: expect.any(String) }),
    ]);
    expect(data.sessions.map((s: { id: string }) => s.id)).toContain(reg.tokens.session_id);
    expect(data.devices).toEqual([
      expect.objectContaining({
        id: device.id,
        name: "my laptop",
        platform: "linux",
        public_key: device.public_key,
      }),
    ]);
    expect(data.peers).toEqual([
      expect.objectContaining({
        id: peer.id,
        network_id: network,
        device_id: device.id,
        address: peer.address,
      }),
    ]);
    expect(data.communities).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ tenant_id: tenant, role: "member", owner: false }),
        expect.objectContaining({ tenant_id: mine, role: "owner", owner: true }),
      ]),
    );
    expect(data.networks).toEqual([
      expect.objectContaining({ network_id: network, tenant_id: tenant, status: "active" }),
    ]);
    expect(data.invites).toEqual([
      expect.objectContaining({ id: invite.id, code: invite.code, tenant_id: mine, uses: 0 }),
    ]);
    expect(data.messages).toEqual([
      {
        id: message.id,
        tenant_id: tenant,
        network_id: network,
        content: "my words",
        timestamp: message.timestamp,
        edited_at: null,
      },
    ]);
    expect(data.rooms).toEqual([
      expect.objectContaining({ id: room.id, name: "my den", has_password: false }),
    ]);
    const actions = data.audit_events.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(["account.register", "totp.enable", "key.add"]));
    expect(data.bans).toEqual([]);

    // No secret of any kind: hashes, TOTP secret, recovery codes, tokens.
    const text = JSON.stringify(data);
    for (const secret of [
      "password_hash",
      "totp_secret",
      "token_hash",
      "code_hash",
      "$argon2",
      setup.secret,
      reg.tokens.refresh_token,
      me.token,
      ...(confirmed.recovery_codes ?? []),
    ]) {
      expect(text, `export contains ${secret.slice(0, 12)}`).not.toContain(secret);
    }
    expect((await t.api("GET", "/v1/me/export")).status).toBe(401);
  });

  it("lists bans against me, without who banned me", async () => {
    const [owner, me] = await Promise.all([hubUser(t.api), hubUser(t.api)]);
    const tenant = await f.community(owner);
    await f.join(tenant, me);
    f.ok(
      await t.api("POST", `/v1/tenants/${tenant}/bans`, {
        token: owner.token,
        body: { user_id: me.id, reason: "spam" },
      }),
      200,
      201,
    );
    const data = (await t.api("GET", "/v1/me/export", { token: me.token })).body;
    expect(data.bans).toEqual([
      { tenant_id: tenant, network_id: null, reason: "spam", until: null, created_at: expect.any(String) },
    ]);
    expect(data.communities).toEqual([]);
    expect(JSON.stringify(data)).not.toContain(owner.id);
  });

  it("asks a password account for its password and a key-only account for the typed confirmation", async () => {
    const user = await hubUser(t.api);
    for (const [body, status, code] of [
      [{}, 400, "invalid_request"],
      [{ confirm: "delete my account" }, 400, "invalid_request"],
      [{ password: "not my password at all" }, 403, "invalid_password"],
    ] as const) {
      const res = await deleteMe(user, body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body.error.code).toBe(code);
    }
    expect((await t.api("GET", "/v1/auth/me", { token: user.token })).status).toBe(200);

    const pair = ed25519Pair();
    const reg = await t.api("POST", "/v1/auth/register", {
      body: { username: uniqueName("k"), public_key: pair.publicKey },
    });
    const keyOnly: HubUser = {
      id: reg.body.user.id,
      username: reg.body.user.username,
      token: reg.body.tokens.access_token,
    };
    for (const body of [{}, { confirm: "yes" }, { password: PASSWORD }]) {
      expect((await deleteMe(keyOnly, body)).status, JSON.stringify(body)).toBe(400);
    }
    expect((await deleteMe(keyOnly, { confirm: "delete my account" })).status).toBe(204);
    expect((await t.api("GET", "/v1/auth/me", { token: keyOnly.token })).status).toBe(401);
  });

  it("refuses while I own a community with other members; deletes the ones only I am in", async () => {
    const [me, other] = await Promise.all([hubUser(t.api), hubUser(t.api)]);
    const shared = await f.community(me);
    const alone = await f.community(me);
    await f.network(alone, me);
    await f.join(shared, other);

    const refused = await deleteMe(me, { password: PASSWORD });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("owner_must_transfer");
    expect(refused.body.error.details.tenants).toEqual([expect.objectContaining({ id: shared, members: 2 })]);
    expect((await t.api("GET", "/v1/auth/me", { token: me.token })).status).toBe(200);

    await f.kick(shared, other, me);
    expect((await deleteMe(me, { password: PASSWORD })).status).toBe(204);
    const left = await db().selectFrom("tenants").select("id").where("id", "in", [shared, alone]).execute();
    expect(left).toEqual([]);
    expect(await db().selectFrom("networks").select("id").where("tenant_id", "=", alone).execute()).toEqual(
      [],
    );
  });

  it("deletes the account: messages stay as deleted user, everyone is told, sockets close, the name is free", async () => {
    const [owner, me, bob] = await Promise.all([hubUser(t.api), hubUser(t.api), hubUser(t.api)]);
    const tenant = await f.community(owner);
    await f.join(tenant, me);
    await f.join(tenant, bob);
    const network = await f.network(tenant, owner);
    await f.joinNetwork(network, me);
    await f.joinNetwork(network, bob);
    const device = await f.device(me);
    const peer = await f.peer(network, me, device.id);
    const said = (await f.post(`/v1/tenants/${tenant}/messages`, me, "remember me")).body;
    const myWs = await pool.connect(t.url, me, { device: "laptop" });
    const bobWs = await pool.connect(t.url, bob);

    expect((await deleteMe(me, { password: PASSWORD })).status).toBe(204);

    expect((await myWs.closed).code).toBe(4001);
    expect(await bobWs.next((x) => x.type === "peer_removed", WAIT)).toEqual({
      type: "peer_removed",
      network_id: network,
      peer_id: peer.id,
      device_id: device.id,
      user_id: me.id,
    });
    expect(await bobWs.next((x) => x.type === "member_removed" && x.network_id === null, WAIT)).toEqual({
      type: "member_removed",
      tenant_id: tenant,
      network_id: null,
      user_id: me.id,
      reason: "left",
    });
    await bobWs.next((x) => x.type === "member_removed" && x.network_id === network, WAIT);

    const messages = (await t.api("GET", `/v1/tenants/${tenant}/messages`, { token: bob.token })).body
      .messages;
    expect(messages.find((m: { id: string }) => m.id === said.id)).toEqual({
      ...said,
      user_id: null,
      username: "deleted user",
    });
    const peers = await db().selectFrom("peers").select("id").where("network_id", "=", network).execute();
    expect(peers.map((p) => p.id)).not.toContain(peer.id);
    expect(await db().selectFrom("devices").select("id").where("user_id", "=", me.id).execute()).toEqual([]);
    expect(
      await db().selectFrom("tenant_members").select("tenant_id").where("user_id", "=", me.id).execute(),
    ).toEqual([]);

    // Signed out everywhere, unable to sign in, and the name can be taken again.
    expect((await t.api("GET", "/v1/auth/me", { token: me.token })).status).toBe(401);
    const login = await t.api("POST", "/v1/auth/login", {
      body: { username: me.username, password: PASSWORD },
    });
    expect(login.status).toBe(401);
    expect((await t.api("GET", `/v1/users/check/${me.username}`)).body.available).toBe(true);
    expect((await register(t.api, { username: me.username })).user.id).not.toBe(me.id);

    // The audit trail keeps what happened, about an account that no longer exists.
    const trail = await t.server.repositories.audit.list({ actorId: me.id, limit: 100 });
    expect(trail.map((r) => r.action)).toEqual(
      expect.arrayContaining(["account.register", "account.delete"]),
    );
    const log = (await t.api("GET", `/v1/tenants/${tenant}/audit?actor=${me.id}`, { token: owner.token }))
      .body;
    expect(log.events[0]).toMatchObject({ action: "member.leave", actor_id: me.id, actor_username: null });
  });
});
