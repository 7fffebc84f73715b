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
}

export interface UserKeysTable {
  id: string;
  user_id: string;
  kind: "ed25519" | "x25519";
  public_key: string;
  label: string | null;
  created_at: string;
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
}
