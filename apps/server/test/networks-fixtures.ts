import { randomBytes } from "node:crypto";
import { expect } from "vitest";
import type { HubUser } from "./helpers/hub-client.js";
import { hubUser } from "./helpers/hub-client.js";
import type { Api } from "./helpers/server.js";
import { uniqueName } from "./helpers/server.js";

/** A UUIDv7-shaped id nobody has. */
export const RANDOM_ID = "0190a4c2-1111-7000-8000-000000000000";

/**
 * Communities, roles, networks and devices for the networks suites, made through the
 * HTTP API only (tenants and devices routes), so the suites exercise what clients do.
 */
export function networkFixtures(api: Api) {
  const ok = <T = any>(res: { status: number; body: T }, ...expected: number[]) => {
    expect(expected, `${res.status} ${JSON.stringify(res.body)}`).toContain(res.status);
    return res.body;
  };

  const f = {
    ok,
    user: (fields: Record<string, unknown> = {}) => hubUser(api, fields),
    /** A public, open community owned by `owner` (anyone signed in may join it). */
    async community(owner: HubUser): Promise<string> {
      const res = await api("POST", "/v1/tenants", {
        token: owner.token,
        body: { name: uniqueName("c"), access: "open", visibility: "public" },
      });
      return ok(res, 201).id as string;
    },
    /** Hides the community from outsiders (after its members joined). */
    async privatize(tenantId: string, owner: HubUser): Promise<void> {
      ok(
        await api("PATCH", `/v1/tenants/${tenantId}`, {
          token: owner.token,
          body: { visibility: "private" },
        }),
        200,
      );
    },
    /** `user` joins the community and gets `role` from `by` (the owner). */
    async member(tenantId: string, user: HubUser, role: string, by: HubUser): Promise<void> {
      ok(await api("POST", `/v1/tenants/${tenantId}/join`, { token: user.token, body: {} }), 200, 201);
      if (role === "member") return;
      ok(
        await api("PATCH", `/v1/tenants/${tenantId}/members/${user.id}`, { token: by.token, body: { role } }),
        200,
      );
    },
    /** An owner, an admin, a moderator and two members of a fresh community. */
    async cast() {
      const [owner, admin, moderator, member, other] = await Promise.all([
        f.user(),
        f.user(),
        f.user(),
        f.user(),
        f.user(),
      ]);
      const tenant = await f.community(owner);
      await f.member(tenant, admin, "admin", owner);
      await f.member(tenant, moderator, "moderator", owner);
      await f.member(tenant, member, "member", owner);
      await f.member(tenant, other, "member", owner);
      await f.privatize(tenant, owner);
      return { tenant, owner, admin, moderator, member, other };
    },
    async createNetwork(tenantId: string, by: HubUser, body: Record<string, unknown>) {
      return api("POST", `/v1/tenants/${tenantId}/networks`, {
        token: by.token,
        body: { name: uniqueName("n"), ...body },
      });
    },
    /** A network (open, public unless told) made by `by`; returns its id. */
    async network(tenantId: string, by: HubUser, body: Record<string, unknown>): Promise<string> {
      const res = await f.createNetwork(tenantId, by, { join_policy: "open", visibility: "public", ...body });
      return ok(res, 201).id as string;
    },
    join: (networkId: string, user: HubUser) =>
      api("POST", `/v1/networks/${networkId}/join`, { token: user.token }),
    async joined(networkId: string, user: HubUser): Promise<void> {
      expect(ok(await f.join(networkId, user), 201).status).toBe("active");
    },
    async device(user: HubUser, name = "laptop"): Promise<{ id: string; public_key: string }> {
      const res = await api("POST", "/v1/devices", {
        token: user.token,
        body: { name, platform: "linux", public_key: randomBytes(32).toString("base64") },
      });
      return ok(res, 201);
    },
    addPeer: (networkId: string, user: HubUser, deviceId: string, address?: string) =>
      api("POST", `/v1/networks/${networkId}/peers`, {
        token: user.token,
        body: address === undefined ? { device_id: deviceId } : { device_id: deviceId, address },
      }),
    async peer(networkId: string, user: HubUser, deviceId: string, address?: string) {
      return ok(await f.addPeer(networkId, user, deviceId, address), 201) as {
        id: string;
        address: string;
        [k: string]: unknown;
      };
    },
  };
  return f;
}
