import type { ColumnType } from "kysely";

/**
 * The database as Kysely sees it. Times are stored as UTC ISO 8601 text
 * ("2026-01-02T03:04:05.678Z") in both dialects: it sorts as it reads, needs no
 * driver conversion, and is exactly what goes on the wire.
 */
export interface UsersTable {
  id: string;
  username: string;
  /** lower-cased username: uniqueness ignores case */
  username_key: string;
  email: string | null;
  email_key: string | null;
  display_name: string | null;
  password_hash: string | null;
  totp_secret: string | null;
  totp_enabled_at: string | null;
  /** the last TOTP time step accepted: a code works once */
  totp_last_step: number | null;
  created_at: string;
  updated_at: string;
  /**
   * 1 for the first account created on an empty server: a server admin. A
   * unique index allows one such row, so two first registrations racing cannot both
   * get it. Other server admins come from ADMIN_USERS.
   */
  is_admin: ColumnType<number, number | undefined, number>;
}

export interface UserKeysTable {
  id: string;
  user_id: string;
  kind: "ed25519" | "x25519";
  public_key: string;
  label: string | null;
  created_at: string;
  /** the hub device id the key belongs to; NULL: no device, sign-in only */
  device: string | null;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  created_at: string;
  refreshed_at: string;
  expires_at: string;
  revoked_at: string | null;
  revoke_reason: string | null;
  /** the Ed25519 key of a key sign-in; null for password sign-in */
  signin_key_id: string | null;
  /** when the holder last proved who they are (sign-in or reauthentication); null: created_at */
  proved_at: string | null;
  /** the User-Agent that started the session, cut to 200 characters */
  user_agent: string | null;
}

export interface RefreshTokensTable {
  id: string;
  session_id: string;
  token_hash: string;
  created_at: string;
  expires_at: string;
  rotated_at: string | null;
}

export interface RecoveryCodesTable {
  id: string;
  user_id: string;
  code_hash: string;
  used_at: string | null;
}

export interface AuthChallengesTable {
  id: string;
  user_id: string;
  challenge: string;
  expires_at: string;
  used_at: string | null;
}

export interface AuditEventsTable {
  id: string;
  actor_id: string | null;
  action: string;
  target: string | null;
  ip: string | null;
  details: string | null;
  created_at: string;
  /** the community the event belongs to, if any */
  tenant_id: string | null;
}

export interface RoomsTable {
  id: string;
  name: string;
  password_hash: string | null;
  owner_id: string;
  owner_key: string | null;
  max_members: number;
  /** 0 or 1: kept when the owner leaves */
  persistent: number;
  created_at: string;
  last_activity_at: string;
}

export interface RoomBansTable {
  room_id: string;
  user_id: string;
  until: string;
  by_id: string;
}

export type TenantRole = "owner" | "admin" | "moderator" | "member";

export interface TenantsTable {
  id: string;
  name: string;
  /** lower-cased name, for search */
  name_key: string;
  description: string;
  visibility: "public" | "private";
  access: "open" | "password" | "invite_only";
  password_hash: string | null;
  owner_id: string;
  created_at: string;
  updated_at: string;
}

export interface TenantMembersTable {
  tenant_id: string;
  user_id: string;
  role: TenantRole;
  joined_at: string;
}

/** A ban of a community (tenant_bans) or of one network (network_bans); until NULL: for good. */
export interface TenantBansTable {
  tenant_id: string;
  user_id: string;
  reason: string | null;
  until: string | null;
  by_id: string;
  created_at: string;
}

export interface NetworksTable {
  id: string;
  tenant_id: string;
  name: string;
  description: string;
  cidr: string;
  visibility: "public" | "private";
  join_policy: "open" | "invite" | "approval";
  required_role: TenantRole;
  /** how a joining device gets its address: lowest free, or random free */
  allocation: "sequential" | "random";
  created_at: string;
  updated_at: string;
}

export interface NetworkMembersTable {
  network_id: string;
  user_id: string;
  status: "active" | "pending";
  joined_at: string;
}

export interface NetworkBansTable {
  network_id: string;
  user_id: string;
  reason: string | null;
  until: string | null;
  by_id: string;
  created_at: string;
}

export interface InvitesTable {
  id: string;
  code: string;
  tenant_id: string;
  /** an invite to one network also joins its community */
  network_id: string | null;
  /** the role the invite gives; NULL: member */
  role: TenantRole | null;
  max_uses: number | null;
  uses: number;
  expires_at: string | null;
  revoked_at: string | null;
  created_by: string;
  created_at: string;
}

export interface DevicesTable {
  id: string;
  user_id: string;
  name: string;
  platform: "linux" | "macos" | "windows" | "ios" | "android" | "other";
  /** WireGuard public key, base64; the private key never reaches the server */
  public_key: string;
  last_seen: string | null;
  created_at: string;
  updated_at: string;
}

export interface PeersTable {
  id: string;
  network_id: string;
  device_id: string;
  user_id: string;
  /** dotted IPv4 */
  address: string;
  /** the same address as an integer (unique per network) */
  address_num: number | string | bigint;
  /** where the device can be reached, "host:port" */
  endpoint: string | null;
  last_seen: string | null;
  created_at: string;
  updated_at: string;
}

export interface AddressReservationsTable {
  network_id: string;
  address_num: number | string | bigint;
  address: string;
  note: string | null;
  by_id: string;
  created_at: string;
}

export interface ChatMessagesTable {
  id: string;
  tenant_id: string;
  /** NULL: the community's channel */
  network_id: string | null;
  /** NULL once the author deleted their account */
  user_id: string | null;
  body: string;
  created_at: string;
  edited_at: string | null;
}

/** A direct message: what the server checks, never what it says. */
export interface DirectMessagesTable {
  id: string;
  /** no foreign key: a deleted account's id stays on the other party's messages */
  sender_id: string;
  recipient_id: string;
  client_msg_id: string;
  /** the sender's clock, as signed */
  sent_at: string;
  received_at: string;
  signature: string | null;
  signing_key_id: string | null;
  verification: "verified" | "unverified" | "unsigned";
  /** JSON [[device_key_id, hash], …] sorted by device_key_id */
  hashes: string;
}

/** One sealed copy of a direct message, for one device key. */
export interface DirectMessageCopiesTable {
  message_id: string;
  device_key_id: string;
  /** who holds the key */
  user_id: string;
  /** the hub device id of the key */
  device: string;
  /** NULL once expired */
  enc: string | null;
  ciphertext: string | null;
  status: "pending" | "delivered" | "read" | "expired";
  delivered_at: string | null;
  read_at: string | null;
  expired_at: string | null;
}

export interface UserBlocksTable {
  user_id: string;
  blocked_id: string;
  created_at: string;
}

/**
 * One hub connection that has closed (analytics' session tracking): who, which device,
 * when. No address. Open ones are in analytics_open_sessions; the repository hands both
 * out in this shape, ended_at and duration_ms null while open.
 */
export interface AnalyticsSessionsTable {
  /** the connection's id (the welcome frame's `session`) */
  id: string;
  user_id: string;
  /** the hub device string of the connection */
  device: string;
  /** the server process that held it (analytics_instances.id) */
  instance: string;
  started_at: string;
  ended_at: string | null;
  duration_ms: number | null;
  /** 1: closed after its server stopped without closing it; ended_at is the server's last sign of life */
  recovered: number;
}

/** Users active (a hub connection open at some moment) on each UTC day. */
export interface AnalyticsActiveUsersTable {
  day: string;
  user_id: string;
}

/** Client frames received per UTC day and type, summed over every instance. */
export interface AnalyticsMessageCountsTable {
  day: string;
  type: string;
  count: number | string | bigint;
}

/** Hub connections open now; when one closes, its row moves to analytics_sessions. */
export interface AnalyticsOpenSessionsTable {
  id: string;
  user_id: string;
  device: string;
  instance: string;
  started_at: string;
}

/** Server processes writing analytics: their heartbeat tells a live one from a crashed one. */
export interface AnalyticsInstancesTable {
  id: string;
  started_at: string;
  last_seen_at: string;
}

/** The paths a device last reported to its peers in a network (JSON of PeerPathsBody). */
export interface PeerPathsTable {
  peer_id: string;
  network_id: string;
  report: string;
  updated_at: string;
}

export interface Schema {
  users: UsersTable;
  user_keys: UserKeysTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  recovery_codes: RecoveryCodesTable;
  auth_challenges: AuthChallengesTable;
  audit_events: AuditEventsTable;
  rooms: RoomsTable;
  room_bans: RoomBansTable;
  tenants: TenantsTable;
  tenant_members: TenantMembersTable;
  tenant_bans: TenantBansTable;
  networks: NetworksTable;
  network_members: NetworkMembersTable;
  network_bans: NetworkBansTable;
  invites: InvitesTable;
  devices: DevicesTable;
  peers: PeersTable;
  peer_paths: PeerPathsTable;
  address_reservations: AddressReservationsTable;
  chat_messages: ChatMessagesTable;
  analytics_sessions: AnalyticsSessionsTable;
  analytics_open_sessions: AnalyticsOpenSessionsTable;
  analytics_active_users: AnalyticsActiveUsersTable;
  analytics_message_counts: AnalyticsMessageCountsTable;
  analytics_instances: AnalyticsInstancesTable;
  direct_messages: DirectMessagesTable;
  direct_message_copies: DirectMessageCopiesTable;
  user_blocks: UserBlocksTable;
}
