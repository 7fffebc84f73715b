import { uuidv7 } from "@warren/protocol";
import type { AuditRepository } from "../storage/repositories/audit.js";
import { nowIso, type RequestContext } from "./context.js";

/** Actions recorded in audit_events; names are stable, like error codes. */
export type AuditAction =
  | "account.register"
  | "signin.password"
  | "signin.key"
  | "signin.failure"
  | "session.refresh_reused"
  | "session.logout"
  | "session.reauthenticate"
  | "session.revoke"
  | "session.revoke_others"
  | "account.password_change"
  | "totp.setup"
  | "totp.enable"
  | "totp.disable"
  | "totp.recovery_used"
  | "key.add"
  | "key.delete"
  // direct messages
  | "user.block"
  | "user.unblock"
  // communities and networks: tenant.create, member.kick, network.create, …
  | `tenant.${string}`
  | `member.${string}`
  | `invite.${string}`
  | `network.${string}`
  | `address.${string}`
  | `device.${string}`
  | `peer.${string}`
  | `chat.${string}`
  | `account.${string}`;

export interface AuditEntry {
  actorId?: string | null | undefined;
  target?: string | null | undefined;
  details?: Record<string, unknown>;
  /** the community the event belongs to: it shows in that community's audit log */
  tenantId?: string | null | undefined;
}

/** Writes audit events; the client address is kept only with AUDIT_CLIENT_IP=true. */
export function createAudit(repo: AuditRepository, options: { recordIp: boolean }) {
  return {
    async record(action: AuditAction, entry: AuditEntry, ctx?: RequestContext): Promise<void> {
      await repo.insert({
        id: uuidv7(),
        actor_id: entry.actorId ?? null,
        action,
        target: entry.target ?? null,
        ip: options.recordIp ? (ctx?.ip ?? null) : null,
        details: entry.details ? JSON.stringify(entry.details) : null,
        created_at: nowIso(),
        tenant_id: entry.tenantId ?? null,
      });
    },
  };
}

export type Audit = ReturnType<typeof createAudit>;
