import { randomBytes } from "node:crypto";
import { uuidv7 } from "@warren/protocol";
import { expect } from "vitest";
import { type HubUser, hubUser } from "./hub-client.js";
import { type Api, type TestServer, uniqueName } from "./server.js";

/**
 * Communities for the tenants-* suites, made through the HTTP API under test. Networks
 * and peers are written straight into the database: they belong to other routes, and
 * these suites only need them to exist to see kick and ban sweep them away.
 */
let hosts = 0;

export function tenantKit(t: () => TestServer) {
  const api: Api = (...args) => t().api(...args);
  const ok = <T = any>(res: { status: number; body: T }, ...expected: number[]): T => {
    expect(expected, `${res.status} ${JSON.stringify(res.body)}`).toContain(res.status);
    return res.body;
  };
  const kit = {
    api,
    ok,
    user: () => hubUser(t().api),
    async community(owner: HubUser, body: Record<string, unknown> = {}): Promise<any> {
      return ok(
        await api("POST", "/v1/tenants", {
          token: owner.token,
          body: { name: uniqueName("c"), access: "open", ...body },
        }),
        201,
      );
    },
    join: (tenantId: string, user: HubUser, body: Record<string, unknown> = {}) =>
      api("POST", `/v1/tenants/${tenantId}/join`, { token: user.token, body }),
    /** Joins `user` with `role` (set by `by`, the owner unless given). */
    async member(tenantId: string, user: HubUser, role: string, by: HubUser): Promise<void> {
      const invite = ok(
        await api("POST", `/v1/tenants/${tenantId}/invites`, {
          token: by.token,
          body: { role, max_uses: 1 },
        }),
        201,
      );
      ok(await api("POST", "/v1/invites/accept", { token: user.token, body: { code: invite.code } }), 200);
    },
    invite: (tenantId: string, by: HubUser, body: Record<string, unknown> = {}) =>
      api("POST", `/v1/tenants/${tenantId}/invites`, { token: by.token, body }),
    accept: (code: string, user: HubUser) =>
      api("POST", "/v1/invites/accept", { token: user.token, body: { code } }),
    async role(tenantId: string, userId: string): Promise<string | undefined> {
      return t().server.repositories.memberships.tenantRole(tenantId, userId);
    },
    /** A network of the community, inserted directly. */
    async network(tenantId: string, fields: { required_role?: string } = {}): Promise<string> {
      const id = uuidv7();
      const now = new Date().toISOString();
      await t()
        .server.database.db.insertInto("networks")
        .values({
          id,
          tenant_id: tenantId,
          name: uniqueName("n"),
          description: "",
          cidr: `10.${randomBytes(1)[0]}.${randomBytes(1)[0]}.0/24`,
          visibility: "public",
          join_policy: "open",
          required_role: (fields.required_role ?? "member") as "member",
          allocation: "sequential",
          created_at: now,
          updated_at: now,
        })
        .execute();
      return id;
    },
    /** The user as an active network member with one device and its peer; returns the peer. */
    async peer(networkId: string, user: HubUser): Promise<{ id: string; device_id: string }> {
      const db = t().server.database.db;
      const now = new Date().toISOString();
      await db
        .insertInto("network_members")
        .values({ network_id: networkId, user_id: user.id, status: "active", joined_at: now })
        .onConflict((oc) => oc.columns(["network_id", "user_id"]).doNothing())
        .execute();
      const device = uuidv7();
      await db
        .insertInto("devices")
        .values({
          id: device,
          user_id: user.id,
          name: "laptop",
          platform: "linux",
          public_key: randomBytes(32).toString("base64"),
          last_seen: null,
          created_at: now,
          updated_at: now,
        })
        .execute();
      const id = uuidv7();
      hosts += 1;
      const n = 10 + (hosts % 240);
      await db
        .insertInto("peers")
        .values({
          id,
          network_id: networkId,
          device_id: device,
          user_id: user.id,
          address: `10.0.0.${n}`,
          address_num: 167772160 + n,
          endpoint: null,
          last_seen: null,
          created_at: now,
          updated_at: now,
        })
        .execute();
      return { id, device_id: device };
    },
    async count(table: "network_members" | "peers", userId: string): Promise<number> {
      const rows = await t()
        .server.database.db.selectFrom(table)
        .select("user_id")
        .where("user_id", "=", userId)
        .execute();
      return rows.length;
    },
    async audit(tenantId: string, action: string) {
      const rows = await t()
        .server.database.db.selectFrom("audit_events")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .where("action", "=", action)
        .execute();
      return rows;
    },
  };
  return kit;
}
