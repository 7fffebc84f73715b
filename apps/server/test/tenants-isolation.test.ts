import { uuidv7 } from "@warren/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "./helpers/backends.js";
import type { HubUser } from "./helpers/hub-client.js";
import { startTestServer, type TestServer } from "./helpers/server.js";
import { tenantKit } from "./helpers/tenants.js";

/**
 * Tenant isolation: the owner of community A, the most any caller of A can
 * be, uses community B's ids on every community route and gets the 404 a random id
 * gets: same status, same body.
 */
describe.each(backends())("community isolation on $name", (backend) => {
  let t: TestServer;
  const k = tenantKit(() => t);
  let alice: HubUser; // owns A
  let bella: HubUser; // owns B
  let bMember: HubUser; // member of B only
  let bBanned: HubUser; // banned from B only
  let a: string;
  let b: string;
  let bInvite: string;
  let bNetwork: string;
  beforeAll(async () => {
    t = await startTestServer(backend);
    alice = await k.user();
    bella = await k.user();
    bMember = await k.user();
    bBanned = await k.user();
    a = (await k.community(alice, { access: "open", visibility: "private" })).id;
    b = (await k.community(bella, { access: "invite_only", visibility: "private" })).id;
    await k.member(b, bMember, "member", bella);
    bInvite = k.ok(await k.invite(b, bella, { max_uses: 5 }), 201).id;
    k.ok(
      await k.api("POST", `/v1/tenants/${b}/bans`, { token: bella.token, body: { user_id: bBanned.id } }),
      201,
    );
    bNetwork = await k.network(b);
  });
  afterAll(async () => t?.close());

  /** [method, path with B's ids, the same path with random ids, body] */
  const routes = (): [string, string, string, unknown?][] => {
    const r = uuidv7();
    const u = uuidv7();
    return [
      ["GET", `/v1/tenants/${b}`, `/v1/tenants/${r}`],
      ["PATCH", `/v1/tenants/${b}`, `/v1/tenants/${r}`, { description: "mine now" }],
      ["DELETE", `/v1/tenants/${b}`, `/v1/tenants/${r}`],
      ["POST", `/v1/tenants/${b}/join`, `/v1/tenants/${r}/join`, {}],
      ["POST", `/v1/tenants/${b}/members`, `/v1/tenants/${r}/members`, {}],
      ["GET", `/v1/tenants/${b}/members`, `/v1/tenants/${r}/members`],
      ["PATCH", `/v1/tenants/${b}/members/${bMember.id}`, `/v1/tenants/${r}/members/${u}`, { role: "admin" }],
      ["DELETE", `/v1/tenants/${b}/members/${bMember.id}`, `/v1/tenants/${r}/members/${u}`],
      ["DELETE", `/v1/tenants/${b}/members/me`, `/v1/tenants/${r}/members/me`],
      ["POST", `/v1/tenants/${b}/leave`, `/v1/tenants/${r}/leave`],
      ["POST", `/v1/tenants/${b}/transfer`, `/v1/tenants/${r}/transfer`, { user_id: bMember.id }],
      ["POST", `/v1/tenants/${b}/bans`, `/v1/tenants/${r}/bans`, { user_id: bMember.id }],
      ["GET", `/v1/tenants/${b}/bans`, `/v1/tenants/${r}/bans`],
      ["DELETE", `/v1/tenants/${b}/bans/${bBanned.id}`, `/v1/tenants/${r}/bans/${u}`],
      ["POST", `/v1/tenants/${b}/invites`, `/v1/tenants/${r}/invites`, {}],
      ["GET", `/v1/tenants/${b}/invites`, `/v1/tenants/${r}/invites`],
      ["DELETE", `/v1/tenants/${b}/invites/${bInvite}`, `/v1/tenants/${r}/invites/${u}`],
    ];
  };

  it("B's community id on every route answers like a random id", async () => {
    for (const [method, path, random, body] of routes()) {
      const got = await k.api(method, path, { token: alice.token, body });
      const ref = await k.api(method, random, { token: alice.token, body });
      expect(got.status, `${method} ${path}`).toBe(404);
      expect(got.body.error.code, `${method} ${path}`).toBe("not_found");
      expect(got.body, `${method} ${path}`).toEqual(ref.body);
    }
  });

  it("B's member, invite, ban and network ids inside community A answer 404", async () => {
    const cases: [string, string, unknown?][] = [
      ["PATCH", `/v1/tenants/${a}/members/${bMember.id}`, { role: "admin" }],
      ["DELETE", `/v1/tenants/${a}/members/${bMember.id}`],
      ["POST", `/v1/tenants/${a}/transfer`, { user_id: bMember.id }],
      ["DELETE", `/v1/tenants/${a}/bans/${bBanned.id}`],
      ["DELETE", `/v1/tenants/${a}/invites/${bInvite}`],
      ["POST", `/v1/tenants/${a}/invites`, { network_id: bNetwork }],
    ];
    for (const [method, path, body] of cases) {
      const res = await k.api(method, path, { token: alice.token, body });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error.code, `${method} ${path}`).toBe("not_found");
    }
    // Nothing in B changed.
    expect(await k.role(b, bMember.id)).toBe("member");
    expect(await k.role(b, alice.id)).toBeUndefined();
    const invites = await k.api("GET", `/v1/tenants/${b}/invites`, { token: bella.token });
    expect(invites.body.invites[0]).toMatchObject({ id: bInvite, revoked_at: null });
    const bans = await k.api("GET", `/v1/tenants/${b}/bans`, { token: bella.token });
    expect(bans.body.bans.map((x: any) => x.user.id)).toEqual([bBanned.id]);
    const tenant = await k.api("GET", `/v1/tenants/${b}`, { token: bella.token });
    expect(tenant.body).toMatchObject({ description: "", owner_id: bella.id, member_count: 2 });
  });

  it("B's members see only what they share: A stays hidden from them", async () => {
    expect((await k.api("GET", `/v1/tenants/${a}`, { token: bMember.token })).status).toBe(404);
    expect((await k.api("GET", `/v1/tenants/${a}/members`, { token: bMember.token })).status).toBe(404);
    const mine = await k.api("GET", "/v1/tenants", { token: bMember.token });
    expect(mine.body.tenants.map((x: any) => x.id)).toEqual([b]);
    const discover = await k.api("GET", "/v1/tenants?discover=1", { token: bMember.token });
    expect(discover.body.tenants.map((x: any) => x.id)).not.toContain(a);
    expect(discover.body.tenants.map((x: any) => x.id)).not.toContain(b);
  });
});
