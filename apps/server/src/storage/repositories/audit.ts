import type { Kysely, Selectable } from "kysely";
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
  };
}

export type AuditRepository = ReturnType<typeof createAuditRepository>;
