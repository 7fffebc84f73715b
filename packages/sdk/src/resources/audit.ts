import type { Http } from "../transport/http.js";
import { path, withQuery } from "./path.js";

export interface AuditQuery {
  /** an action name ("member.kick") or a prefix ending in "." ("member.") */
  action?: string;
  /** events this user caused */
  actor?: string;
  /** ISO 8601: at or after */
  since?: string;
  /** ISO 8601: before */
  until?: string;
  limit?: number;
  /** next_cursor of the previous page */
  before?: string;
}

export interface AuditEvent {
  id: string;
  action: string;
  actor_id: string | null;
  actor_username: string | null;
  target: string | null;
  details: unknown;
  created_at: string;
  ip?: string | null;
}

/** A community's audit log, newest first (admins and the owner). */
export function auditResource(http: Http) {
  return {
    list: (tenantId: string, query: AuditQuery = {}) =>
      http<{ events: AuditEvent[]; next_cursor: string | null }>(
        "GET",
        withQuery(path`/v1/tenants/${tenantId}/audit`, { ...query }),
      ),
  };
}
