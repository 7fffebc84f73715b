import { type Static, Type } from "typebox";
import { Id, Timestamp } from "./common.js";

/** The words a key-only account types to delete itself (it has no password to give). */
export const DELETE_ACCOUNT_CONFIRMATION = "delete my account";

/**
 * DELETE /v1/me. A stolen access token alone should not be enough to erase an account:
 * accounts with a password give it; key-only accounts type the confirmation.
 */
export const DeleteMeBody = Type.Object({
  password: Type.Optional(
    Type.String({ minLength: 1, maxLength: 1024, description: "required when the account has a password" }),
  ),
  confirm: Type.Optional(
    Type.Literal(DELETE_ACCOUNT_CONFIRMATION, {
      description: 'required, as "delete my account", when the account has no password',
    }),
  ),
});

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Text = Type.String();
const Time = Timestamp;

/** GET /v1/me/export: everything the server holds about the caller (GDPR art. 15 and 20). */
export const PersonalDataExport = Type.Object({
  format: Type.Literal("warren-export-1"),
  exported_at: Time,
  profile: Type.Object({
    id: Id,
    username: Text,
    email: Nullable(Text),
    display_name: Nullable(Text),
    has_password: Type.Boolean(),
    totp_enabled: Type.Boolean(),
    totp_enabled_at: Nullable(Time),
    created_at: Time,
    updated_at: Time,
  }),
  public_keys: Type.Array(
    Type.Object({ id: Id, kind: Text, public_key: Text, label: Nullable(Text), created_at: Time }),
  ),
  sessions: Type.Array(
    Type.Object({
      id: Id,
      created_at: Time,
      refreshed_at: Time,
      expires_at: Time,
      revoked_at: Nullable(Time),
      revoke_reason: Nullable(Text),
      signin_key_id: Nullable(Text),
    }),
  ),
  devices: Type.Array(
    Type.Object({
      id: Id,
      name: Text,
      platform: Text,
      public_key: Text,
      last_seen: Nullable(Time),
      created_at: Time,
      updated_at: Time,
    }),
  ),
  peers: Type.Array(
    Type.Object({
      id: Id,
      network_id: Id,
      network_name: Text,
      device_id: Id,
      address: Text,
      endpoint: Nullable(Text),
      last_seen: Nullable(Time),
      created_at: Time,
    }),
  ),
  communities: Type.Array(
    Type.Object({ tenant_id: Id, name: Text, role: Text, owner: Type.Boolean(), joined_at: Time }),
  ),
  networks: Type.Array(
    Type.Object({ network_id: Id, tenant_id: Id, name: Text, status: Text, joined_at: Time }),
  ),
  bans: Type.Array(
    Type.Object({
      tenant_id: Id,
      network_id: Nullable(Text),
      reason: Nullable(Text),
      until: Nullable(Time),
      created_at: Time,
    }),
  ),
  invites: Type.Array(
    Type.Object({
      id: Id,
      code: Text,
      tenant_id: Id,
      network_id: Nullable(Text),
      role: Nullable(Text),
      max_uses: Type.Union([Type.Integer(), Type.Null()]),
      uses: Type.Integer(),
      expires_at: Nullable(Time),
      revoked_at: Nullable(Time),
      created_at: Time,
    }),
  ),
  messages: Type.Array(
    Type.Object({
      id: Id,
      tenant_id: Id,
      network_id: Nullable(Text),
      content: Text,
      timestamp: Time,
      edited_at: Nullable(Time),
    }),
  ),
  rooms: Type.Array(
    Type.Object({
      id: Id,
      name: Text,
      max_members: Type.Integer(),
      persistent: Type.Boolean(),
      has_password: Type.Boolean(),
      created_at: Time,
      last_activity_at: Time,
    }),
  ),
  audit_events: Type.Array(
    Type.Object({
      id: Id,
      action: Text,
      tenant_id: Nullable(Text),
      target: Nullable(Text),
      details: Type.Unknown(),
      ip: Type.Optional(Text),
      created_at: Time,
    }),
    { description: "events where you are the actor" },
  ),
  direct_messages: Type.Array(
    Type.Object({
      id: Id,
      from: Id,
      to: Id,
      client_msg_id: Text,
      sent_at: Text,
      received_at: Time,
      verification: Text,
      copies: Type.Array(
        Type.Object({
          device_key_id: Text,
          device: Nullable(Text),
          status: Text,
          delivered_at: Nullable(Time),
          read_at: Nullable(Time),
        }),
        { description: "your own devices' copies: their delivery, not their ciphertext" },
      ),
    }),
    { description: "direct messages you sent or received: metadata only, no ciphertext" },
  ),
  blocks: Type.Array(Type.Object({ user_id: Id, created_at: Time }), { description: "users you blocked" }),
  hub_sessions: Type.Array(
    Type.Object({
      id: Text,
      device: Text,
      started_at: Time,
      ended_at: Nullable(Time),
      duration_ms: Type.Union([Type.Integer(), Type.Null()]),
      recovered: Type.Boolean(),
    }),
    { description: "your hub connections as analytics keep them: no address is stored" },
  ),
});

export type DeleteMeBody = Static<typeof DeleteMeBody>;
export type PersonalDataExport = Static<typeof PersonalDataExport>;
