import type { Kysely, Selectable, Updateable } from "kysely";
import type { NetworkBansTable, NetworksTable, Schema, TenantRole } from "../schema.js";

export type NetworkRow = Selectable<NetworksTable>;
export type NetworkBanRow = Selectable<NetworkBansTable>;

/** A network as one caller sees it: their standing in its community and in it. */
export interface NetworkView extends NetworkRow {
  /** the caller's community role */
  role: TenantRole;
  my_status: "active" | "pending" | null;
  member_count: number;
}

export interface NetworkMemberRow {
  user_id: string;
  username: string;
  role: TenantRole;
  status: "active" | "pending";
  joined_at: string;
}

/**
 * Networks, their memberships and bans. Reads for a caller join tenant_members on the
 * caller: a network of a community they are not in is simply not found, exactly like
 * a random id (tenant isolation).
 */
export function createNetworksRepository(db: Kysely<Schema>) {
  const viewQuery = (userId: string) =>
    db
      .selectFrom("networks as n")
      .innerJoin("tenant_members as tm", (j) =>
        j.onRef("tm.tenant_id", "=", "n.tenant_id").on("tm.user_id", "=", userId),
      )
      .leftJoin("network_members as me", (j) =>
        j.onRef("me.network_id", "=", "n.id").on("me.user_id", "=", userId),
      )
      .selectAll("n")
      .select((eb) => [
        "tm.role as role",
        "me.status as my_status",
        eb
          .selectFrom("network_members as c")
          .whereRef("c.network_id", "=", "n.id")
          .where("c.status", "=", "active")
          .select((e) => e.fn.countAll<string | number>().as("n"))
          .as("member_count"),
      ]);
  const toView = (
    row: Omit<NetworkView, "member_count" | "my_status"> & { my_status: unknown; member_count: unknown },
  ) =>
    ({
      ...row,
      my_status: (row.my_status ?? null) as NetworkView["my_status"],
      member_count: Number(row.member_count ?? 0),
    }) as NetworkView;

  return {
    async insert(row: NetworkRow): Promise<void> {
      await db.insertInto("networks").values(row).execute();
    },
    async update(id: string, changes: Updateable<NetworksTable>): Promise<void> {
      await db.updateTable("networks").set(changes).where("id", "=", id).execute();
    },
    async delete(id: string): Promise<void> {
      await db.deleteFrom("networks").where("id", "=", id).execute();
    },
    /** The network with the caller's standing, if the caller is in its community. */
    async viewFor(networkId: string, userId: string): Promise<NetworkView | undefined> {
      const row = await viewQuery(userId).where("n.id", "=", networkId).executeTakeFirst();
      return row ? toView(row) : undefined;
    },
    /** The community's networks with the caller's standing; empty unless the caller is a member. */
    async listFor(tenantId: string, userId: string): Promise<NetworkView[]> {
      const rows = await viewQuery(userId).where("n.tenant_id", "=", tenantId).orderBy("n.id").execute();
      return rows.map(toView);
    },
    /** The other networks of a community (for the overlap rule). */
    async cidrsOf(
      tenantId: string,
      exceptId?: string,
    ): Promise<{ id: string; name: string; cidr: string }[]> {
      let q = db.selectFrom("networks").select(["id", "name", "cidr"]).where("tenant_id", "=", tenantId);
      if (exceptId) q = q.where("id", "!=", exceptId);
      return q.execute();
    },
    async members(networkId: string, includePending: boolean): Promise<NetworkMemberRow[]> {
      let q = db
        .selectFrom("network_members as m")
        .innerJoin("networks as n", "n.id", "m.network_id")
        .innerJoin("users as u", "u.id", "m.user_id")
        .innerJoin("tenant_members as tm", (j) =>
          j.onRef("tm.tenant_id", "=", "n.tenant_id").onRef("tm.user_id", "=", "m.user_id"),
        )
        .select(["m.user_id", "u.username", "tm.role", "m.status", "m.joined_at"])
        .where("m.network_id", "=", networkId);
      if (!includePending) q = q.where("m.status", "=", "active");
      return q.orderBy("m.joined_at").orderBy("m.user_id").execute();
    },
    async activeMemberIds(networkId: string): Promise<string[]> {
      const rows = await db
        .selectFrom("network_members")
        .select("user_id")
        .where("network_id", "=", networkId)
        .where("status", "=", "active")
        .execute();
      return rows.map((r) => r.user_id);
    },
    async status(networkId: string, userId: string): Promise<"active" | "pending" | undefined> {
      const row = await db
        .selectFrom("network_members")
        .select("status")
        .where("network_id", "=", networkId)
        .where("user_id", "=", userId)
        .executeTakeFirst();
      return row?.status;
    },
    /** Adds a membership; false when the user already has one (active or pending). */
    async addMember(
      networkId: string,
      userId: string,
      status: "active" | "pending",
      at: string,
    ): Promise<boolean> {
      const r = await db
        .insertInto("network_members")
        .values({ network_id: networkId, user_id: userId, status, joined_at: at })
        .onConflict((oc) => oc.columns(["network_id", "user_id"]).doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
    },
    /** pending → active; false when there was no pending request. */
    async activate(networkId: string, userId: string, at: string): Promise<boolean> {
      const r = await db
        .updateTable("network_members")
        .set({ status: "active", joined_at: at })
        .where("network_id", "=", networkId)
        .where("user_id", "=", userId)
        .where("status", "=", "pending")
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },
    /** Removes a membership (of the given status, or any); true when there was one. */
    async removeMember(networkId: string, userId: string, status?: "active" | "pending"): Promise<boolean> {
      let q = db
        .deleteFrom("network_members")
        .where("network_id", "=", networkId)
        .where("user_id", "=", userId);
      if (status) q = q.where("status", "=", status);
      const r = await q.executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },
    /** Moderators, admins and the owner of the network's community, with their standing in it. */
    async moderators(
      networkId: string,
    ): Promise<{ user_id: string; role: TenantRole; status: "active" | "pending" | null }[]> {
      return db
        .selectFrom("networks as n")
        .innerJoin("tenant_members as tm", "tm.tenant_id", "n.tenant_id")
        .leftJoin("network_members as m", (j) =>
          j.onRef("m.network_id", "=", "n.id").onRef("m.user_id", "=", "tm.user_id"),
        )
        .select(["tm.user_id", "tm.role", "m.status"])
        .where("n.id", "=", networkId)
        .where("tm.role", "in", ["moderator", "admin", "owner"])
        .execute();
    },
    async ban(row: NetworkBanRow): Promise<void> {
      const { network_id, user_id, ...rest } = row;
      await db
        .insertInto("network_bans")
        .values(row)
        .onConflict((oc) => oc.columns(["network_id", "user_id"]).doUpdateSet(rest))
        .execute();
    },
    async unban(networkId: string, userId: string): Promise<boolean> {
      const r = await db
        .deleteFrom("network_bans")
        .where("network_id", "=", networkId)
        .where("user_id", "=", userId)
        .executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },
    /** Bans in force on a network, newest first. */
    async bansInForce(networkId: string, now: string): Promise<NetworkBanRow[]> {
      return db
        .selectFrom("network_bans")
        .selectAll()
        .where("network_id", "=", networkId)
        .where((eb) => eb.or([eb("until", "is", null), eb("until", ">", now)]))
        .orderBy("created_at", "desc")
        .orderBy("user_id")
        .execute();
    },
    /** The ban in force (no end, or an end after `now`), if any. */
    async banInForce(networkId: string, userId: string, now: string): Promise<NetworkBanRow | undefined> {
      return db
        .selectFrom("network_bans")
        .selectAll()
        .where("network_id", "=", networkId)
        .where("user_id", "=", userId)
        .where((eb) => eb.or([eb("until", "is", null), eb("until", ">", now)]))
        .executeTakeFirst();
    },
  };
}

export type NetworksRepository = ReturnType<typeof createNetworksRepository>;
