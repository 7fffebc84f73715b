import { type Kysely, sql } from "kysely";
import { compiled } from "../compiled.js";
import type { Schema, TenantRole } from "../schema.js";

/**
 * Who belongs where: the reads every part of communities needs (the hub's topics at
 * connect, the relay rule, access checks). Writes live with the services that own
 * them (tenants, networks).
 */
export function createMembershipsRepository(db: Kysely<Schema>) {
  // Asked for every direct message between two users (the contact rule).
  const communityOf = compiled(db, (a: string, b: string) =>
    db
      .selectFrom("tenant_members as x")
      .innerJoin("tenant_members as y", "y.tenant_id", "x.tenant_id")
      .select("x.tenant_id")
      .where("x.user_id", "=", a)
      .where("y.user_id", "=", b)
      .limit(1),
  );
  const networkOf = compiled(db, (a: string, b: string) =>
    db
      .selectFrom("network_members as x")
      .innerJoin("network_members as y", "y.network_id", "x.network_id")
      .select("x.network_id")
      .where("x.user_id", "=", a)
      .where("x.status", "=", "active")
      .where("y.user_id", "=", b)
      .where("y.status", "=", "active")
      .limit(1),
  );
  const scopeIdsOf = compiled(db, (userId: string) =>
    db
      .selectFrom("tenant_members")
      .select([sql<string>`'t'`.as("kind"), "tenant_id as id"])
      .where("user_id", "=", userId)
      .unionAll(
        db
          .selectFrom("network_members")
          .select([sql<string>`'n'`.as("kind"), "network_id as id"])
          .where("user_id", "=", userId)
          .where("status", "=", "active"),
      ),
  );
  return {
    async tenantRole(tenantId: string, userId: string): Promise<TenantRole | undefined> {
      const row = await db
        .selectFrom("tenant_members")
        .select("role")
        .where("tenant_id", "=", tenantId)
        .where("user_id", "=", userId)
        .executeTakeFirst();
      return row?.role;
    },
    async networkStatus(networkId: string, userId: string): Promise<"active" | "pending" | undefined> {
      const row = await db
        .selectFrom("network_members")
        .select("status")
        .where("network_id", "=", networkId)
        .where("user_id", "=", userId)
        .executeTakeFirst();
      return row?.status;
    },
    async tenantIdsOf(userId: string): Promise<string[]> {
      const rows = await db
        .selectFrom("tenant_members")
        .select("tenant_id")
        .where("user_id", "=", userId)
        .execute();
      return rows.map((r) => r.tenant_id);
    },
    /**
     * The user's communities and the networks they are an active member of, in one
     * query (a socket's topics at every connect).
     */
    async scopeIdsOf(userId: string): Promise<{ tenants: string[]; networks: string[] }> {
      const rows = await scopeIdsOf(userId);
      const out = { tenants: [] as string[], networks: [] as string[] };
      for (const row of rows) (row.kind === "t" ? out.tenants : out.networks).push(row.id);
      return out;
    },
    /** Networks the user is an active (not pending) member of. */
    async networkIdsOf(userId: string): Promise<string[]> {
      const rows = await db
        .selectFrom("network_members")
        .select("network_id")
        .where("user_id", "=", userId)
        .where("status", "=", "active")
        .execute();
      return rows.map((r) => r.network_id);
    },
    async shareCommunity(a: string, b: string): Promise<boolean> {
      return (await communityOf(a, b)).length > 0;
    },
    async shareNetwork(a: string, b: string): Promise<boolean> {
      return (await networkOf(a, b)).length > 0;
    },
  };
}

export type MembershipsRepository = ReturnType<typeof createMembershipsRepository>;
