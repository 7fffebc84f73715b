/**
 * Every error code warren answers with, and the HTTP status it travels with.
 * Codes are stable snake_case strings: clients branch on them, so a code is never
 * renamed or reused. Add new ones at the end of their group.
 */
export const ERRORS = {
  // request shape
  invalid_request: { status: 400, message: "The request is not valid" },
  invalid_json: { status: 400, message: "The body is not valid JSON" },
  invalid_public_key: { status: 400, message: "The public key is not a valid key of that kind" },
  not_found: { status: 404, message: "Not found" },
  unknown_type: { status: 400, message: "Unknown frame type" },
  unknown_command: { status: 404, message: "No such command" },
  payload_too_large: { status: 413, message: "The body is larger than the server accepts" },
  unsupported_media_type: { status: 415, message: "Send the body as application/json" },
  upgrade_required: { status: 426, message: "This server speaks WebSocket version 13 (RFC 6455)" },
  unsigned_message: { status: 400, message: "The message has no signature" },
  unverified_signature: { status: 400, message: "The signing key is not a key of the sender" },
  json_too_deep: { status: 400, message: "The JSON nests arrays and objects deeper than the server accepts" },
  invalid_text: { status: 400, message: "Text may not contain the NUL character (U+0000)" },
  // authentication
  unauthorized: { status: 401, message: "Sign in first: send an access token" },
  invalid_token: { status: 401, message: "The access token is not valid" },
  token_expired: { status: 401, message: "The access token has expired" },
  invalid_credentials: { status: 401, message: "Wrong username or password" },
  totp_required: { status: 401, message: "This account needs a two-factor code" },
  invalid_totp: { status: 401, message: "The two-factor code is wrong or was already used" },
  invalid_challenge: { status: 401, message: "The challenge is unknown, expired or already used" },
  invalid_signature: { status: 401, message: "The signature does not verify" },
  invalid_refresh_token: { status: 401, message: "The refresh token is not valid" },
  refresh_reused: { status: 401, message: "The refresh token was already used; the session is revoked" },
  // authorization
  forbidden: { status: 403, message: "You may not do that" },
  invalid_password: { status: 403, message: "Wrong password" },
  banned: { status: 403, message: "You are banned here for now" },
  invalid_invite: { status: 404, message: "The invite code is unknown, expired, used up or revoked" },
  peer_unavailable: { status: 404, message: "That peer is not available" },
  reauthentication_required: {
    status: 403,
    message: "Prove it is you first: POST /v1/auth/reauthenticate with your password or a key signature",
  },
  // conflicts
  username_taken: { status: 409, message: "That username is taken" },
  email_taken: { status: 409, message: "That email address is already registered" },
  key_taken: { status: 409, message: "That public key is already registered" },
  totp_already_enabled: { status: 409, message: "Two-factor authentication is already on" },
  totp_not_enabled: { status: 409, message: "Two-factor authentication is not on" },
  totp_not_started: { status: 409, message: "Start two-factor setup first (POST /v1/auth/totp)" },
  last_credential: { status: 409, message: "This is the account's last way to sign in" },
  room_full: { status: 409, message: "The room is full" },
  already_member: { status: 409, message: "You are already a member" },
  owner_must_transfer: { status: 409, message: "The owner must transfer ownership first" },
  cidr_overlap: { status: 409, message: "The range overlaps another network of this community" },
  cidr_conflict: { status: 409, message: "The range overlaps another network this device is in" },
  network_full: { status: 409, message: "The network has no free address" },
  address_taken: { status: 409, message: "That address is taken or reserved" },
  network_in_use: {
    status: 409,
    message: "The network has devices or reservations; its range cannot change",
  },
  stale_device_keys: {
    status: 409,
    message: "The copies do not match the current device keys; seal again for the keys in details",
  },
  device_key_exists: {
    status: 409,
    message: "This device already has a key of that kind; delete it first",
  },
  // limits and availability
  rate_limited: { status: 429, message: "Too many attempts; try again later" },
  too_many_connections: { status: 429, message: "Too many open connections; close one first" },
  internal_error: { status: 500, message: "Something went wrong on the server" },
  service_unavailable: { status: 503, message: "The service is temporarily unavailable" },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export function statusOf(code: ErrorCode): number {
  return ERRORS[code].status;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERRORS, value);
}

/** The body of every non-2xx HTTP answer. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}
