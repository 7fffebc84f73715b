import { type Kysely, type Selectable, sql } from "kysely";
import type { AuditEventsTable, Schema } from "../schema.js";

export type AuditRow = Selectable<AuditEventsTable>;

export function createAuditRepository(db: Kysely<Schema>) {
  return {
    async insert(row: AuditRow): Promise<void> {
      await db.insertInto("audit_events").values(row).execute();
    },
    async list(filter: { actorId?: string; action?: string; limit?: number } = {}): Promise<AuditRow[]> {
      let q = db.selectFrom("audit_events").selectAll();
      if (filter.actorId) q = q.where("actor_id", "=", filter.actorId);
      if (filter.action) q = q.where("action", "=", filter.action);
      return q
        .orderBy("created_at", "desc")
        .orderBy("id", "desc")
        .limit(filter.limit ?? 100)
        .execute();
    },
    /**
     * A community's audit log, newest first (by id: UUIDv7 sorts by time), with each
     * actor's current username (null once the account is gone). `action` ending in "."
     * is a prefix ("member." is every member.* event); otherwise an exact name.
     */
    async listForTenant(
      tenantId: string,
      filter: {
        action?: string | undefined;
        actorId?: string | undefined;
        since?: string | undefined;
        until?: string | undefined;
        before?: string | undefined;
        limit: number;
      },
    ): Promise<(AuditRow & { actor_username: string | null })[]> {
      let q = db
        .selectFrom("audit_events as a")
        .leftJoin("users as u", "u.id", "a.actor_id")
        .selectAll("a")
        .select("u.username as actor_username")
        .where("a.tenant_id", "=", tenantId);
      if (filter.action?.endsWith(".")) {
        // substr, not LIKE: "_" in action names would be a LIKE wildcard.
        const n = sql.lit(filter.action.length);
        q = q.where(sql<string>`substr(a.action, 1, ${n})`, "=", filter.action);
      } else if (filter.action) q = q.where("a.action", "=", filter.action);
      if (filter.actorId) q = q.where("a.actor_id", "=", filter.actorId);
      if (filter.since) q = q.where("a.created_at", ">=", filter.since);
      if (filter.until) q = q.where("a.created_at", "<", filter.until);
      if (filter.before) q = q.where("a.id", "<", filter.before);
      return q.orderBy("a.id", "desc").limit(filter.limit).execute();
    },
  };
}

export type AuditRepository = ReturnType<typeof createAuditRepository>;
