import { randomBytes } from "node:crypto";
import { expect } from "vitest";
import type { HubUser } from "./helpers/hub-client.js";
import type { Api } from "./helpers/server.js";
import { uniqueName } from "./helpers/server.js";

/**
 * Communities, networks, roles and devices for the chat, audit and data-rights suites,
 * made only through the HTTP API (the routes under test sit on top of them).
 */
export function fixtures(api: Api) {
  let subnet = 0;
  const ok = <T = any>(res: { status: number; body: T }, ...expected: number[]) => {
    expect(expected, `${res.status} ${JSON.stringify(res.body)}`).toContain(res.status);
    return res.body;
  };

  const f = {
    ok,
    /** An open community owned by `owner`; returns its id. */
    async community(owner: HubUser, body: Record<string, unknown> = {}): Promise<string> {
      const res = await api("POST", "/v1/tenants", {
        token: owner.token,
        body: { name: uniqueName("c"), visibility: "public", access: "open", ...body },
      });
      return ok(res, 201).id as string;
    },
    async join(tenantId: string, user: HubUser): Promise<void> {
      ok(await api("POST", `/v1/tenants/${tenantId}/join`, { token: user.token, body: {} }), 200, 201);
    },
    /** Joins `user` to the community with `role` (given by the owner or an admin). */
    async member(tenantId: string, user: HubUser, role: string, by: HubUser): Promise<void> {
      await f.join(tenantId, user);
      if (role === "member") return;
      ok(
        await api("PATCH", `/v1/tenants/${tenantId}/members/${user.id}`, { token: by.token, body: { role } }),
        200,
      );
    },
    async kick(tenantId: string, user: HubUser, by: HubUser): Promise<void> {
      ok(await api("DELETE", `/v1/tenants/${tenantId}/members/${user.id}`, { token: by.token }), 200, 204);
    },
    /** A public, open network in the community, made by (and joined by) its owner or an admin; returns its id. */
    async network(tenantId: string, by: HubUser): Promise<string> {
      subnet += 1;
      const res = await api("POST", `/v1/tenants/${tenantId}/networks`, {
        token: by.token,
        body: {
          name: uniqueName("n"),
          cidr: `10.${subnet % 250}.${subnet % 200}.0/24`,
          visibility: "public",
          join_policy: "open",
        },
      });
      return ok(res, 201).id as string;
    },
    async joinNetwork(networkId: string, user: HubUser): Promise<void> {
      const body = ok(
        await api("POST", `/v1/networks/${networkId}/join`, { token: user.token, body: {} }),
        200,
        201,
      );
      expect(body.status).toBe("active");
    },
    /** A device with a fresh WireGuard public key; returns the device. */
    async device(user: HubUser, name = "laptop"): Promise<{ id: string; public_key: string }> {
      const res = await api("POST", "/v1/devices", {
        token: user.token,
        body: { name, platform: "linux", public_key: randomBytes(32).toString("base64") },
      });
      return ok(res, 201);
    },
    /** Adds the device to the network; returns the peer. */
    async peer(networkId: string, user: HubUser, deviceId: string): Promise<{ id: string; address: string }> {
      const res = await api("POST", `/v1/networks/${networkId}/peers`, {
        token: user.token,
        body: { device_id: deviceId },
      });
      return ok(res, 201);
    },
    async post(path: string, user: HubUser, content: string) {
      return api("POST", path, { token: user.token, body: { content } });
    },
  };
  return f;
}

export const randomId = () => `01900000-0000-7000-8000-${randomBytes(6).toString("hex")}`;
