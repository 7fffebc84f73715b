import { type Static, Type } from "typebox";
import { UUID_PATTERN } from "../ids.js";
import { CHAT_PAGE_DEFAULT, CHAT_PAGE_MAX } from "./chat.js";
import { Id, Timestamp } from "./common.js";

/** A community's audit log (GET /v1/tenants/:id/audit). */
export const AuditQuery = Type.Object({
  action: Type.Optional(
    Type.String({
      pattern: "^[a-z0-9_.]{1,64}$",
      description: 'an action name ("member.kick"), or a prefix ending in "." ("member.")',
    }),
  ),
  actor: Type.Optional(Id),
  since: Type.Optional(Type.String({ format: "date-time", description: "events at or after this time" })),
  until: Type.Optional(Type.String({ format: "date-time", description: "events before this time" })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: CHAT_PAGE_MAX, default: CHAT_PAGE_DEFAULT })),
  before: Type.Optional(
    Type.String({ pattern: UUID_PATTERN, description: "next_cursor of the previous page" }),
  ),
});

export const AuditEvent = Type.Object({
  id: Id,
  action: Type.String(),
  actor_id: Type.Union([Type.String(), Type.Null()]),
  actor_username: Type.Union([Type.String(), Type.Null()], {
    description: "null when there is no actor or the account is gone",
  }),
  target: Type.Union([Type.String(), Type.Null()]),
  details: Type.Unknown({ description: "the event's details (JSON), or null" }),
  ip: Type.Optional(
    Type.String({ description: "only when the server records client addresses (AUDIT_CLIENT_IP)" }),
  ),
  created_at: Timestamp,
});

export const AuditList = Type.Object({
  events: Type.Array(AuditEvent, { description: "newest first" }),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});

export type AuditQuery = Static<typeof AuditQuery>;
export type AuditEvent = Static<typeof AuditEvent>;
export type AuditList = Static<typeof AuditList>;
