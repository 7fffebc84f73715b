import type {
  CommunityEventFrame,
  CreateNetworkBody,
  Network,
  NetworkEventFrame,
  PeerEventFrame,
  UpdateNetworkBody,
} from "@warren/protocol";
import { uuidv7 } from "@warren/protocol";
import type { Kysely } from "kysely";
import { sql } from "kysely";
import type { Bus } from "../bus/bus.js";
import { topics } from "../bus/topics.js";
import { AppError } from "../errors.js";
import { type CommunityAction, mayInCommunity, mayViewNetwork } from "../policy/policy.js";
import type { SharedState } from "../state/index.js";
import type { Dialect } from "../storage/create-database.js";
import type { Repositories } from "../storage/repositories/index.js";
import { createNetworksRepository, type NetworkView } from "../storage/repositories/networks.js";
import type { NetworksTable, Schema } from "../storage/schema.js";
import type { Audit } from "./audit.js";
import { nowIso, type RequestContext } from "./context.js";
import { type Cidr, overlaps, parseCidr } from "./ipam.js";
import { createTenantAccess } from "./tenants.js";

/** What the network services share. */
export interface NetworkDeps {
  db: Kysely<Schema>;
  dialect: Dialect;
  /** the network services' repositories */
  repos: Pick<Repositories, "networks" | "tenants" | "memberships" | "users" | "peers" | "devices">;
  bus: Bus;
  audit: Audit;
  /** which devices have a hub socket open: a peer's `online` */
  state: SharedState;
}

export function toNetwork(view: NetworkView): Network {
  return {
    id: view.id,
    tenant_id: view.tenant_id,
    name: view.name,
    description: view.description,
    cidr: view.cidr,
    visibility: view.visibility,
    join_policy: view.join_policy,
    required_role: view.required_role,
    allocation: view.allocation,
    created_at: view.created_at,
    updated_at: view.updated_at,
    my_status: view.my_status,
    member_count: view.member_count,
  };
}

/** Frames for members and topic changes for a user's sockets, over the bus. */
export function createNetworkEvents(bus: Bus) {
  return {
    frame(
      topic: string,
      frame:
        | CommunityEventFrame
        | NetworkEventFrame
        | PeerEventFrame
        | { type: string; [k: string]: unknown },
    ) {
      return bus.publish(topic, { kind: "frame", frame: JSON.stringify(frame), type: frame.type });
    },
    subscribe: (userId: string, networkId: string) =>
      bus.publish(topics.user(userId), { kind: "topics.add", topics: [topics.network(networkId)] }),
    unsubscribe: (userId: string, networkId: string) =>
      bus.publish(topics.user(userId), { kind: "topics.remove", topics: [topics.network(networkId)] }),
  };
}

/**
 * The one way a network service reads a network for a caller. The query is scoped to
 * the caller's communities, and the policy decides visibility; anything the caller may
 * not see answers the same 404 as a random id. With an action, a visible network whose
 * action needs a role the caller lacks answers 403.
 */
export function createNetworkAccess(repos: Pick<Repositories, "networks">) {
  return async function load(
    networkId: string,
    userId: string,
    action?: CommunityAction,
  ): Promise<NetworkView> {
    const view = await repos.networks.viewFor(networkId, userId);
    if (!view || !mayViewNetwork(view.role, view, view.my_status))
      throw new AppError("not_found", "No such network");
    if (action && !mayInCommunity(view.role, action)) {
      throw new AppError("forbidden", `Your role (${view.role}) may not ${action.replace(/_/g, " ")} here`);
    }
    return view;
  };
}

function cidrOf(text: string): Cidr {
  const r = parseCidr(text);
  if (!r.ok) throw new AppError("invalid_request", r.message, { details: { field: "cidr" } });
  return r.cidr;
}

/** PostgreSQL: one network change of a community at a time, so overlap checks cannot race. */
async function lockTenant(db: Kysely<Schema>, dialect: Dialect, tenantId: string): Promise<void> {
  if (dialect === "postgres") await sql`select id from tenants where id = ${tenantId} for update`.execute(db);
}

function assertNoOverlap(cidr: Cidr, others: { id: string; name: string; cidr: string }[]): void {
  const hit = others.find((o) => {
    const r = parseCidr(o.cidr);
    return r.ok && overlaps(cidr, r.cidr);
  });
  if (hit) {
    throw new AppError("cidr_overlap", `${cidr.text} overlaps network "${hit.name}" (${hit.cidr})`, {
      details: { network_id: hit.id, cidr: hit.cidr },
    });
  }
}

/** Networks themselves: list, create, read, change, delete. */
export function createNetworks({ db, dialect, repos, bus, audit }: NetworkDeps) {
  const load = createNetworkAccess(repos);
  const tenantAccess = createTenantAccess(repos);
  const events = createNetworkEvents(bus);

  return {
    load,

    async list(userId: string, tenantId: string): Promise<{ networks: Network[] }> {
      await tenantAccess(tenantId, userId, "view");
      const rows = await repos.networks.listFor(tenantId, userId);
      return { networks: rows.filter((v) => mayViewNetwork(v.role, v, v.my_status)).map(toNetwork) };
    },

    async create(
      userId: string,
      tenantId: string,
      body: CreateNetworkBody,
      ctx?: RequestContext,
    ): Promise<Network> {
      const { role } = await tenantAccess(tenantId, userId, "create_network");
      const cidr = cidrOf(body.cidr);
      const now = nowIso();
      const row = {
        id: uuidv7(),
        tenant_id: tenantId,
        name: body.name,
        description: body.description ?? "",
        cidr: cidr.text,
        visibility: body.visibility ?? "private",
        // By default a network takes members by invite only: nobody gets onto a LAN
        // without being invited.
        join_policy: body.join_policy ?? "invite",
        required_role: body.required_role ?? "member",
        allocation: body.allocation ?? "sequential",
        created_at: now,
        updated_at: now,
      } satisfies NetworksTable;
      await db.transaction().execute(async (tx) => {
        await lockTenant(tx, dialect, tenantId);
        const r = createNetworksRepository(tx);
        assertNoOverlap(cidr, await r.cidrsOf(tenantId));
        await r.insert(row);
        // The creator is in the network at once: they made it to use it.
        await r.addMember(row.id, userId, "active", now);
      });
      await events.subscribe(userId, row.id);
      await audit.record(
        "network.create",
        { actorId: userId, target: row.id, tenantId, details: { name: row.name, cidr: row.cidr } },
        ctx,
      );
      return toNetwork({
        ...row,
        role: role === "none" ? "member" : role,
        my_status: "active",
        member_count: 1,
      });
    },

    async get(userId: string, networkId: string): Promise<Network> {
      return toNetwork(await load(networkId, userId));
    },

    async update(
      userId: string,
      networkId: string,
      body: UpdateNetworkBody,
      ctx?: RequestContext,
    ): Promise<Network> {
      const view = await load(networkId, userId, "update_network");
      const changes: Partial<NetworksTable> = {};
      for (const key of [
        "name",
        "description",
        "visibility",
        "join_policy",
        "required_role",
        "allocation",
      ] as const) {
        if (body[key] !== undefined) Object.assign(changes, { [key]: body[key] });
      }
      const cidr = body.cidr === undefined ? undefined : cidrOf(body.cidr);
      if (cidr && cidr.text !== view.cidr) changes.cidr = cidr.text;
      changes.updated_at = nowIso();
      await db.transaction().execute(async (tx) => {
        await lockTenant(tx, dialect, view.tenant_id);
        const r = createNetworksRepository(tx);
        if (cidr && changes.cidr) {
          // Addresses already handed out would fall outside the new range.
          const peers = await tx
            .selectFrom("peers")
            .select((eb) => eb.fn.countAll<string | number>().as("n"))
            .where("network_id", "=", networkId)
            .executeTakeFirstOrThrow();
          if (Number(peers.n) > 0) {
            throw new AppError(
              "network_in_use",
              "The range of a network with devices in it cannot change; remove its peers first",
            );
          }
          const reserved = await tx
            .selectFrom("address_reservations")
            .select("address")
            .where("network_id", "=", networkId)
            .executeTakeFirst();
          if (reserved) {
            throw new AppError(
              "network_in_use",
              "The range of a network with reserved addresses cannot change; remove the reservations first",
            );
          }
          assertNoOverlap(cidr, await r.cidrsOf(view.tenant_id, networkId));
        }
        await r.update(networkId, changes);
      });
      const { updated_at: _, ...shown } = changes;
      await events.frame(topics.network(networkId), {
        type: "network.updated",
        network_id: networkId,
        tenant_id: view.tenant_id,
        changes: shown,
      });
      await audit.record(
        "network.update",
        { actorId: userId, target: networkId, tenantId: view.tenant_id, details: shown },
        ctx,
      );
      return this.get(userId, networkId);
    },

    async delete(userId: string, networkId: string, ctx?: RequestContext): Promise<void> {
      const view = await load(networkId, userId, "delete_network");
      const members = await repos.networks.activeMemberIds(networkId);
      // Peers, memberships, bans, reservations and chat go with it (ON DELETE CASCADE).
      await repos.networks.delete(networkId);
      await events.frame(topics.network(networkId), {
        type: "network.deleted",
        network_id: networkId,
        tenant_id: view.tenant_id,
      });
      for (const member of members) await events.unsubscribe(member, networkId);
      await audit.record(
        "network.delete",
        {
          actorId: userId,
          target: networkId,
          tenantId: view.tenant_id,
          details: { name: view.name, cidr: view.cidr },
        },
        ctx,
      );
    },
  };
}

export type Networks = ReturnType<typeof createNetworks>;
