import { type Static, Type } from "typebox";
import { Id, NAME_PATTERN, Timestamp } from "./common.js";

/** 3–32 of [a-z0-9_.-]; uniqueness ignores case, so no name passes for another. */
export const USERNAME_PATTERN = "^[A-Za-z0-9_.-]{3,32}$";
export const PASSWORD_MIN_LENGTH = 10;
/** 32 raw bytes, base64 (standard or url-safe alphabet). */
export const KEY_PATTERN = "^[A-Za-z0-9+/_-]{43}=?$";

export const Username = Type.String({ pattern: USERNAME_PATTERN, minLength: 3, maxLength: 32 });
export const Password = Type.String({ minLength: PASSWORD_MIN_LENGTH, maxLength: 1024 });
export const PublicKey = Type.String({ pattern: KEY_PATTERN, description: "32-byte public key, base64" });
export const KeyKind = Type.Union([Type.Literal("ed25519"), Type.Literal("x25519")]);
/** A hub device id, the `?device=` of /v1/ws: a device's message keys name it. */
export const DEVICE_PATTERN = "^[A-Za-z0-9_.:-]{1,64}$";
export const KeyDevice = Type.String({
  pattern: DEVICE_PATTERN,
  description: "the hub device id (`?device=` of /v1/ws) this key belongs to",
});

export const User = Type.Object({
  id: Id,
  username: Type.String(),
  display_name: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
});

export const Me = Type.Object({
  ...User.properties,
  email: Type.Union([Type.String(), Type.Null()]),
  has_password: Type.Boolean(),
  totp_enabled: Type.Boolean(),
  session_id: Id,
});

export const PublicKeyRecord = Type.Object({
  id: Id,
  kind: KeyKind,
  public_key: Type.String(),
  label: Type.Union([Type.String(), Type.Null()]),
  device: Type.Union([Type.String(), Type.Null()], {
    description: "the hub device id the key belongs to; null for a key of no device (sign-in only)",
  }),
  created_at: Timestamp,
});

export const Tokens = Type.Object({
  token_type: Type.Literal("Bearer"),
  access_token: Type.String(),
  expires_in: Type.Integer({ description: "seconds until the access token expires" }),
  expires_at: Timestamp,
  refresh_token: Type.String(),
  refresh_expires_at: Timestamp,
  session_id: Id,
});

export const AuthResult = Type.Object({ user: User, tokens: Tokens });

export const RegisterBody = Type.Object({
  username: Username,
  password: Type.Optional(Password),
  email: Type.Optional(Type.String({ format: "email", maxLength: 254 })),
  public_key: Type.Optional(PublicKey),
  display_name: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: NAME_PATTERN })),
});

export const LoginBody = Type.Object({
  username: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
  email: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
  totp: Type.Optional(
    Type.String({ minLength: 1, maxLength: 64, description: "TOTP code or recovery code" }),
  ),
});

export const ChallengeBody = Type.Object({
  username: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  public_key: Type.Optional(PublicKey),
});

export const Challenge = Type.Object({
  challenge_id: Id,
  challenge: Type.String({ description: "base64 of 32 random bytes; sign these bytes" }),
  expires_at: Timestamp,
});

export const VerifyBody = Type.Object({
  challenge_id: Id,
  signature: Type.String({ minLength: 1, maxLength: 200, description: "Ed25519 signature, base64" }),
});

export const RefreshBody = Type.Object({ refresh_token: Type.String({ minLength: 1, maxLength: 200 }) });

export const TotpSetup = Type.Object({ secret: Type.String(), otpauth_url: Type.String() });
export const TotpCodeBody = Type.Object({ code: Type.String({ minLength: 1, maxLength: 64 }) });
export const RecoveryCodes = Type.Object({ recovery_codes: Type.Array(Type.String()) });

export const AddKeyBody = Type.Object({
  kind: KeyKind,
  public_key: PublicKey,
  label: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: NAME_PATTERN })),
  device: Type.Optional(KeyDevice),
});

export const KeyList = Type.Object({ keys: Type.Array(PublicKeyRecord) });

/**
 * A fresh proof of identity: the password (and a TOTP or recovery code when TOTP is on),
 * or a signature by one of the account's Ed25519 keys over a challenge from
 * POST /v1/auth/challenge. One of the two forms.
 */
export const ReauthenticateBody = Type.Object({
  password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  totp: Type.Optional(
    Type.String({ minLength: 1, maxLength: 64, description: "TOTP code or recovery code" }),
  ),
  challenge_id: Type.Optional(Id),
  signature: Type.Optional(
    Type.String({ minLength: 1, maxLength: 200, description: "Ed25519 signature, base64" }),
  ),
});

export const Reauthenticated = Type.Object({
  proved_at: Timestamp,
  fresh_until: Timestamp,
});

export const ChangePasswordBody = Type.Object({
  current_password: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 1024,
      description: "required when the account has a password; without one, a fresh session is",
    }),
  ),
  totp: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  new_password: Password,
  revoke_other_sessions: Type.Optional(
    Type.Boolean({ default: true, description: "end every other session of the account (default)" }),
  ),
});

export const PasswordChanged = Type.Object({
  revoked_sessions: Type.Integer({ description: "how many other sessions ended" }),
});

export const SessionInfo = Type.Object({
  id: Id,
  created_at: Timestamp,
  refreshed_at: Timestamp,
  expires_at: Timestamp,
  proved_at: Timestamp,
  method: Type.Union([Type.Literal("password"), Type.Literal("key")]),
  user_agent: Type.Union([Type.String(), Type.Null()]),
  current: Type.Boolean({ description: "the session of the token that asked" }),
});
export const SessionList = Type.Object({ sessions: Type.Array(SessionInfo) });
export const RevokedSessions = Type.Object({ revoked_sessions: Type.Integer() });
export const Availability = Type.Object({ username: Type.String(), available: Type.Boolean() });
export const IdParams = Type.Object({ id: Id });
export const UsernameParams = Type.Object({ username: Username });

export type User = Static<typeof User>;
export type Me = Static<typeof Me>;
export type Tokens = Static<typeof Tokens>;
export type AuthResult = Static<typeof AuthResult>;
export type PublicKeyRecord = Static<typeof PublicKeyRecord>;
export type KeyKind = Static<typeof KeyKind>;
export type RegisterBody = Static<typeof RegisterBody>;
export type LoginBody = Static<typeof LoginBody>;
export type ChallengeBody = Static<typeof ChallengeBody>;
export type Challenge = Static<typeof Challenge>;
export type VerifyBody = Static<typeof VerifyBody>;
export type AddKeyBody = Static<typeof AddKeyBody>;
export type ReauthenticateBody = Static<typeof ReauthenticateBody>;
export type ChangePasswordBody = Static<typeof ChangePasswordBody>;
export type SessionInfo = Static<typeof SessionInfo>;
