import { type Kysely, type Selectable, sql, type Updateable } from "kysely";
import type { Schema, TenantRole, TenantsTable } from "../schema.js";

export type TenantRow = Selectable<TenantsTable>;
/** A tenant as one caller sees it: their role (null: not a member) and the head count. */
export type TenantView = TenantRow & { role: TenantRole | null; member_count: number };

export interface MemberView {
  user_id: string;
  username: string;
  role: TenantRole;
  joined_at: string;
}

export interface BanView {
  user_id: string;
  username: string;
  reason: string | null;
  until: string | null;
  by_id: string;
  created_at: string;
}

/** What removing a member took with it, so the service can tell everyone. */
export interface Removal {
  wasMember: boolean;
  networks: string[];
  peers: { id: string; network_id: string; device_id: string }[];
}

/** LIKE special characters typed by a user match themselves. */
const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * Communities, their members and bans. Reads that answer "may this caller see it" take
 * the caller and filter in the query, so a hidden community and a missing one are the
 * same empty answer (tenant isolation).
 */
export function createTenantsRepository(db: Kysely<Schema>) {
  const viewOf = (userId: string) =>
    db
      .selectFrom("tenants as t")
      .leftJoin("tenant_members as me", (j) =>
        j.onRef("me.tenant_id", "=", "t.id").on("me.user_id", "=", userId),
      )
      .selectAll("t")
      .select("me.role as role")
      .select((eb) =>
        eb
          .selectFrom("tenant_members as c")
          .whereRef("c.tenant_id", "=", "t.id")
          .select((e) => e.fn.countAll<string | number>().as("n"))
          .as("member_count"),
      );
  const finish = (row: Omit<TenantView, "member_count"> & { member_count: unknown }): TenantView => ({
    ...row,
    role: row.role ?? null,
    member_count: Number(row.member_count ?? 0),
  });

  return {
    async insert(row: TenantRow, ownerJoinedAt: string): Promise<void> {
      await db.insertInto("tenants").values(row).execute();
      await db
        .insertInto("tenant_members")
        .values({ tenant_id: row.id, user_id: row.owner_id, role: "owner", joined_at: ownerJoinedAt })
        .execute();
    },

    /** The tenant if the user is a member or it is public; undefined otherwise. */
    async visibleTo(id: string, userId: string): Promise<TenantView | undefined> {
      const row = await viewOf(userId)
        .where("t.id", "=", id)
        .where((eb) => eb.or([eb("t.visibility", "=", "public"), eb("me.user_id", "is not", null)]))
        .executeTakeFirst();
      return row ? finish(row) : undefined;
    },

    /** The tenant regardless of visibility: only for a caller holding a valid invite to it. */
    async byIdFor(id: string, userId: string): Promise<TenantView | undefined> {
      const row = await viewOf(userId).where("t.id", "=", id).executeTakeFirst();
      return row ? finish(row) : undefined;
    },

    async mine(userId: string): Promise<TenantView[]> {
      const rows = await viewOf(userId)
        .where("me.user_id", "is not", null)
        .orderBy("t.name_key")
        .orderBy("t.id")
        .execute();
      return rows.map(finish);
    },

    /** Public communities whose name contains `q`, by name then id, after (name_key, id). */
    async discover(
      userId: string,
      options: {
        q?: string | undefined;
        limit: number;
        after?: { name_key: string; id: string } | undefined;
      },
    ): Promise<TenantView[]> {
      let query = viewOf(userId).where("t.visibility", "=", "public");
      if (options.q) {
        const pattern = `%${likeEscape(options.q.toLowerCase())}%`;
        query = query.where(sql<boolean>`t.name_key like ${pattern} escape '\\'`);
      }
      const after = options.after;
      if (after) {
        query = query.where((eb) =>
          eb.or([
            eb("t.name_key", ">", after.name_key),
            eb.and([eb("t.name_key", "=", after.name_key), eb("t.id", ">", after.id)]),
          ]),
        );
      }
      const rows = await query.orderBy("t.name_key").orderBy("t.id").limit(options.limit).execute();
      return rows.map(finish);
    },

    async update(id: string, changes: Updateable<TenantsTable>): Promise<void> {
      await db.updateTable("tenants").set(changes).where("id", "=", id).execute();
    },

    async delete(id: string): Promise<boolean> {
      const r = await db.deleteFrom("tenants").where("id", "=", id).executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },

    async networkIds(tenantId: string): Promise<string[]> {
      const rows = await db.selectFrom("networks").select("id").where("tenant_id", "=", tenantId).execute();
      return rows.map((r) => r.id);
    },

    async memberIds(tenantId: string): Promise<string[]> {
      const rows = await db
        .selectFrom("tenant_members")
        .select("user_id")
        .where("tenant_id", "=", tenantId)
        .execute();
      return rows.map((r) => r.user_id);
    },

    async member(tenantId: string, userId: string): Promise<MemberView | undefined> {
      return db
        .selectFrom("tenant_members as m")
        .innerJoin("users as u", "u.id", "m.user_id")
        .select(["m.user_id", "u.username", "m.role", "m.joined_at"])
        .where("m.tenant_id", "=", tenantId)
        .where("m.user_id", "=", userId)
        .executeTakeFirst();
    },

    /** Members in the order they joined, after (joined_at, user_id). */
    async members(
      tenantId: string,
      options: { limit: number; after?: { joined_at: string; user_id: string } | undefined },
    ): Promise<MemberView[]> {
      let query = db
        .selectFrom("tenant_members as m")
        .innerJoin("users as u", "u.id", "m.user_id")
        .select(["m.user_id", "u.username", "m.role", "m.joined_at"])
        .where("m.tenant_id", "=", tenantId);
      const after = options.after;
      if (after) {
        query = query.where((eb) =>
          eb.or([
            eb("m.joined_at", ">", after.joined_at),
            eb.and([eb("m.joined_at", "=", after.joined_at), eb("m.user_id", ">", after.user_id)]),
          ]),
        );
      }
      return query.orderBy("m.joined_at").orderBy("m.user_id").limit(options.limit).execute();
    },

    /** Adds a member; false when they already were one (the row is left as it was). */
    async addMember(tenantId: string, userId: string, role: TenantRole, joinedAt: string): Promise<boolean> {
      const r = await db
        .insertInto("tenant_members")
        .values({ tenant_id: tenantId, user_id: userId, role, joined_at: joinedAt })
        .onConflict((oc) => oc.columns(["tenant_id", "user_id"]).doNothing())
        .executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
    },

    async setRole(tenantId: string, userId: string, role: TenantRole): Promise<boolean> {
      const r = await db
        .updateTable("tenant_members")
        .set({ role })
        .where("tenant_id", "=", tenantId)
        .where("user_id", "=", userId)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    /**
     * Removes a user from the community and from every network of it (memberships,
     * join requests and peers). Run inside a transaction.
     */
    async removeMember(tenantId: string, userId: string): Promise<Removal> {
      const inTenant = db.selectFrom("networks").select("id").where("tenant_id", "=", tenantId);
      const peers = await db
        .selectFrom("peers")
        .select(["id", "network_id", "device_id"])
        .where("user_id", "=", userId)
        .where("network_id", "in", inTenant)
        .execute();
      await db
        .deleteFrom("peers")
        .where("user_id", "=", userId)
        .where("network_id", "in", inTenant)
        .execute();
      const networks = await db
        .selectFrom("network_members")
        .select("network_id")
        .where("user_id", "=", userId)
        .where("network_id", "in", inTenant)
        .execute();
      await db
        .deleteFrom("network_members")
        .where("user_id", "=", userId)
        .where("network_id", "in", inTenant)
        .execute();
      const r = await db
        .deleteFrom("tenant_members")
        .where("tenant_id", "=", tenantId)
        .where("user_id", "=", userId)
        .executeTakeFirst();
      return {
        wasMember: Number(r.numDeletedRows) === 1,
        networks: networks.map((n) => n.network_id),
        peers,
      };
    },

    /** The ban in force (until NULL or later than now), if any. */
    async banInForce(tenantId: string, userId: string, now: string) {
      return db
        .selectFrom("tenant_bans")
        .select(["reason", "until"])
        .where("tenant_id", "=", tenantId)
        .where("user_id", "=", userId)
        .where((eb) => eb.or([eb("until", "is", null), eb("until", ">", now)]))
        .executeTakeFirst();
    },

    async ban(row: Selectable<Schema["tenant_bans"]>): Promise<void> {
      await db
        .insertInto("tenant_bans")
        .values(row)
        .onConflict((oc) =>
          oc.columns(["tenant_id", "user_id"]).doUpdateSet({
            reason: row.reason,
            until: row.until,
            by_id: row.by_id,
            created_at: row.created_at,
          }),
        )
        .execute();
    },

    /** Lifts a ban in force; false when there was none. */
    async unban(tenantId: string, userId: string, now: string): Promise<boolean> {
      const r = await db
        .deleteFrom("tenant_bans")
        .where("tenant_id", "=", tenantId)
        .where("user_id", "=", userId)
        .where((eb) => eb.or([eb("until", "is", null), eb("until", ">", now)]))
        .executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },

    async bans(tenantId: string, now: string): Promise<BanView[]> {
      return db
        .selectFrom("tenant_bans as b")
        .innerJoin("users as u", "u.id", "b.user_id")
        .select(["b.user_id", "u.username", "b.reason", "b.until", "b.by_id", "b.created_at"])
        .where("b.tenant_id", "=", tenantId)
        .where((eb) => eb.or([eb("b.until", "is", null), eb("b.until", ">", now)]))
        .orderBy("b.created_at", "desc")
        .orderBy("b.user_id")
        .execute();
    },
  };
}

export type TenantsRepository = ReturnType<typeof createTenantsRepository>;
