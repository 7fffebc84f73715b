import { type AuditEvent, type AuditList, type AuditQuery, CHAT_PAGE_DEFAULT } from "@warren/protocol";
import { AppError } from "../errors.js";
import { mayInCommunity } from "../policy/policy.js";
import type { AuditRepository } from "../storage/repositories/audit.js";
import type { MembershipsRepository } from "../storage/repositories/memberships.js";

/** Stored details are JSON text; a row that somehow is not JSON shows as its text. */
function parseDetails(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Times compare as stored text, so a query time is brought to the stored form first. */
const canonical = (time: string | undefined) =>
  time === undefined ? undefined : new Date(time).toISOString();

/**
 * A community's audit log for its admins and owner (policy read_audit).
 * Non-members get 404 like for a community that does not exist; members below admin 403.
 */
export function createAuditLog(repo: AuditRepository, memberships: MembershipsRepository) {
  return {
    async list(tenantId: string, userId: string, query: AuditQuery): Promise<AuditList> {
      const role = await memberships.tenantRole(tenantId, userId);
      if (!role) throw new AppError("not_found", "No such community");
      if (!mayInCommunity(role, "read_audit")) {
        throw new AppError("forbidden", "Only admins and the owner may read the audit log");
      }
      const limit = query.limit ?? CHAT_PAGE_DEFAULT;
      const rows = await repo.listForTenant(tenantId, {
        action: query.action,
        actorId: query.actor,
        since: canonical(query.since),
        until: canonical(query.until),
        before: query.before,
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const events: AuditEvent[] = page.map((r) => ({
        id: r.id,
        action: r.action,
        actor_id: r.actor_id,
        actor_username: r.actor_username,
        target: r.target,
        details: parseDetails(r.details),
        // The address is there only when the operator chose to record it (AUDIT_CLIENT_IP).
        ...(r.ip !== null ? { ip: r.ip } : {}),
        created_at: r.created_at,
      }));
      const last = page[page.length - 1];
      return { events, next_cursor: rows.length > limit && last ? last.id : null };
    },
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
