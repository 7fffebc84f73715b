import type { CommunityEventFrame, Tenant } from "@warren/protocol";
import { TENANT_PAGE_DEFAULT, uuidv7 } from "@warren/protocol";
import type { Kysely } from "kysely";
import type { Bus } from "../bus/bus.js";
import { topics } from "../bus/topics.js";
import type { Clock } from "../clock.js";
import { AppError } from "../errors.js";
import { type CommunityAction, type CommunityRole, mayInCommunity } from "../policy/policy.js";
import { createRepositories, type Repositories } from "../storage/repositories/index.js";
import type { TenantView } from "../storage/repositories/tenants.js";
import type { Schema, TenantsTable } from "../storage/schema.js";
import type { Audit } from "./audit.js";
import type { BruteForceGuard } from "./brute-force.js";
import { nowIso, type RequestContext } from "./context.js";
import { hashPassword } from "./passwords.js";

/** What the community services share. */
export interface TenantDeps {
  db: Kysely<Schema>;
  /** the community services' repositories */
  repos: Pick<Repositories, "tenants" | "users" | "invites">;
  bus: Bus;
  audit: Audit;
  /** counts wrong community passwords per user and community */
  passwordGuard: BruteForceGuard;
  /** the time invites expire by (the system clock by default) */
  clock?: Clock;
}

export function toTenant(view: TenantView): Tenant {
  return {
    id: view.id,
    name: view.name,
    description: view.description,
    visibility: view.visibility,
    access: view.access,
    owner_id: view.owner_id,
    created_at: view.created_at,
    updated_at: view.updated_at,
    role: view.role,
    member_count: view.member_count,
  };
}

/** Opaque page cursors: the sort key of the last row, base64url JSON. */
export const cursors = {
  encode: (parts: string[]) => Buffer.from(JSON.stringify(parts)).toString("base64url"),
  decode(cursor: string | undefined, size: number): string[] | undefined {
    if (cursor === undefined) return undefined;
    try {
      const parts = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
      if (Array.isArray(parts) && parts.length === size && parts.every((p) => typeof p === "string"))
        return parts as string[];
    } catch {
      // falls through to the error below
    }
    throw new AppError("invalid_request", "The cursor is not one this server gave out", {
      details: { field: "cursor" },
    });
  },
};

/**
 * The one way a community service reads a community for a caller: the query itself
 * is scoped (member, or public), so another community's id and a random id take the
 * same path to 404. A visible community whose action needs a role the caller lacks
 * answers 403.
 */
export function createTenantAccess(repos: Pick<Repositories, "tenants">) {
  return async function load(
    tenantId: string,
    userId: string,
    action: CommunityAction,
    r: Pick<Repositories, "tenants"> = repos,
  ): Promise<{ tenant: TenantView; role: CommunityRole | "none" }> {
    const tenant = await r.tenants.visibleTo(tenantId, userId);
    if (!tenant) throw new AppError("not_found", "No such community");
    const role = tenant.role ?? "none";
    if (!mayInCommunity(role, action)) {
      throw new AppError(
        "forbidden",
        role === "none" ? "Join this community first" : `Your role (${role}) may not ${action} here`,
      );
    }
    return { tenant, role };
  };
}

/** Frames to members and topic changes for their sockets, over the bus. */
export function createCommunityEvents(bus: Bus) {
  return {
    frame(topic: string, frame: CommunityEventFrame | { type: string; [k: string]: unknown }) {
      return bus.publish(topic, { kind: "frame", frame: JSON.stringify(frame), type: frame.type });
    },
    /** The user's sockets (every device, every instance) join these topics. */
    subscribe(userId: string, list: string[]) {
      return bus.publish(topics.user(userId), { kind: "topics.add", topics: list });
    },
    unsubscribe(userId: string, list: string[]) {
      return bus.publish(topics.user(userId), { kind: "topics.remove", topics: list });
    },
  };
}

export type CommunityEvents = ReturnType<typeof createCommunityEvents>;

type TenantFields = {
  name?: string | undefined;
  description?: string | undefined;
  visibility?: "public" | "private" | undefined;
  access?: "open" | "password" | "invite_only" | undefined;
  password?: string | undefined;
};

const passwordNeeded = () =>
  new AppError("invalid_request", "A community with access=password needs a password", {
    details: { field: "password" },
  });

/** Communities themselves: create, list, discover, read, change, delete. */
export function createTenants({ db, repos, bus, audit }: TenantDeps) {
  const load = createTenantAccess(repos);
  const events = createCommunityEvents(bus);

  return {
    async create(
      userId: string,
      body: TenantFields & { name: string },
      ctx?: RequestContext,
    ): Promise<Tenant> {
      const access = body.access ?? "invite_only";
      if (access === "password" && !body.password) throw passwordNeeded();
      const now = nowIso();
      const row = {
        id: uuidv7(),
        name: body.name,
        name_key: body.name.toLowerCase(),
        description: body.description ?? "",
        visibility: body.visibility ?? "private",
        access,
        password_hash: access === "password" && body.password ? await hashPassword(body.password) : null,
        owner_id: userId,
        created_at: now,
        updated_at: now,
      };
      await db.transaction().execute((tx) => createRepositories(tx).tenants.insert(row, now));
      await events.subscribe(userId, [topics.tenant(row.id)]);
      await audit.record(
        "tenant.create",
        {
          actorId: userId,
          target: row.id,
          tenantId: row.id,
          details: { name: row.name, visibility: row.visibility, access },
        },
        ctx,
      );
      return toTenant({ ...row, role: "owner", member_count: 1 });
    },

    async mine(userId: string): Promise<{ tenants: Tenant[]; next_cursor: null }> {
      return { tenants: (await repos.tenants.mine(userId)).map(toTenant), next_cursor: null };
    },

    async discover(
      userId: string,
      query: { q?: string | undefined; limit?: number | undefined; cursor?: string | undefined },
    ): Promise<{ tenants: Tenant[]; next_cursor: string | null }> {
      const limit = query.limit ?? TENANT_PAGE_DEFAULT;
      const after = cursors.decode(query.cursor, 2);
      const rows = await repos.tenants.discover(userId, {
        q: query.q,
        limit: limit + 1,
        after: after ? { name_key: after[0] as string, id: after[1] as string } : undefined,
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        tenants: page.map(toTenant),
        next_cursor: rows.length > limit && last ? cursors.encode([last.name_key, last.id]) : null,
      };
    },

    async get(userId: string, tenantId: string): Promise<Tenant> {
      const tenant = await repos.tenants.visibleTo(tenantId, userId);
      if (!tenant) throw new AppError("not_found", "No such community");
      return toTenant(tenant);
    },

    async update(
      userId: string,
      tenantId: string,
      body: TenantFields,
      ctx?: RequestContext,
    ): Promise<Tenant> {
      const { tenant } = await load(tenantId, userId, "update");
      const access = body.access ?? tenant.access;
      const changes: Partial<TenantsTable> = {};
      if (body.name !== undefined)
        Object.assign(changes, { name: body.name, name_key: body.name.toLowerCase() });
      if (body.description !== undefined) changes.description = body.description;
      if (body.visibility !== undefined) changes.visibility = body.visibility;
      if (body.access !== undefined) changes.access = body.access;
      if (access === "password") {
        if (body.password) changes.password_hash = await hashPassword(body.password);
        else if (!tenant.password_hash) throw passwordNeeded();
      } else if (body.password !== undefined) {
        throw new AppError("invalid_request", "A password only applies with access=password", {
          details: { field: "password" },
        });
      } else changes.password_hash = null;
      changes.updated_at = nowIso();
      await repos.tenants.update(tenantId, changes);
      const { password_hash: _, ...shown } = changes;
      await audit.record(
        "tenant.update",
        {
          actorId: userId,
          target: tenantId,
          tenantId,
          details: { ...shown, password_changed: body.password !== undefined },
        },
        ctx,
      );
      return this.get(userId, tenantId);
    },

    /**
     * Deletes the community and everything in it. Members hear tenant.deleted first,
     * then their sockets leave the community's and its networks' topics.
     */
    async delete(userId: string, tenantId: string, ctx?: RequestContext): Promise<void> {
      const { tenant } = await load(tenantId, userId, "delete");
      const [members, networks] = await Promise.all([
        repos.tenants.memberIds(tenantId),
        repos.tenants.networkIds(tenantId),
      ]);
      await repos.tenants.delete(tenantId);
      await events.frame(topics.tenant(tenantId), { type: "tenant.deleted", tenant_id: tenantId });
      const gone = [topics.tenant(tenantId), ...networks.map(topics.network)];
      for (const member of members) await events.unsubscribe(member, gone);
      await audit.record(
        "tenant.delete",
        { actorId: userId, target: tenantId, tenantId, details: { name: tenant.name, networks } },
        ctx,
      );
    },
  };
}

export type Tenants = ReturnType<typeof createTenants>;
