import type {
  ChangePasswordBody,
  PasswordChanged,
  PublicKeyRecord,
  ReauthenticateBody,
  Reauthenticated,
  RevokedSessions,
  SessionList,
  Static,
} from "@warren/protocol";
import type { Http } from "../transport/http.js";
import { path } from "./path.js";

export interface TotpSetup {
  /** base32, for typing into an authenticator by hand */
  secret: string;
  /** otpauth:// URL, what a QR code for an authenticator app holds */
  otpauth_url: string;
}

export interface NewPublicKey {
  kind: "ed25519" | "x25519";
  public_key: string;
  label?: string;
  device?: string;
}

/**
 * The signed-in account's credentials and sessions (/v1/auth/totp, /keys, /password,
 * /sessions). Adding or removing a key and every TOTP change need a fresh proof of
 * identity: on 403 reauthentication_required, call reauthenticate and retry.
 */
export function accountResource(http: Http) {
  return {
    /** Proves again who holds this session ({password, totp?} or a signed challenge). */
    reauthenticate: (body: Static<typeof ReauthenticateBody>) =>
      http<Static<typeof Reauthenticated>>("POST", "/v1/auth/reauthenticate", body),
    changePassword: (body: Static<typeof ChangePasswordBody>) =>
      http<Static<typeof PasswordChanged>>("POST", "/v1/auth/password", body),
    /** The account's sessions that still work, newest first (`current` marks this one). */
    sessions: () => http<Static<typeof SessionList>>("GET", "/v1/auth/sessions"),
    /** Ends one session; its sockets close at once. */
    revokeSession: (id: string) => http<void>("DELETE", path`/v1/auth/sessions/${id}`),
    /** Ends every session but this one. */
    revokeOtherSessions: () => http<Static<typeof RevokedSessions>>("DELETE", "/v1/auth/sessions"),
    /** Starts two-factor setup; it is on only after confirmTotp with a current code. */
    startTotp: () => http<TotpSetup>("POST", "/v1/auth/totp"),
    /** Turns two-factor on; the recovery codes are shown this once. */
    confirmTotp: (code: string) =>
      http<{ recovery_codes: string[] }>("POST", "/v1/auth/totp/confirm", { code }),
    /** Turns two-factor off with a current code or a recovery code. */
    disableTotp: (code: string) => http<void>("DELETE", "/v1/auth/totp", { code }),
    keys: () => http<{ keys: PublicKeyRecord[] }>("GET", "/v1/auth/keys"),
    addKey: (body: NewPublicKey) => http<PublicKeyRecord>("POST", "/v1/auth/keys", body),
    removeKey: (id: string) => http<void>("DELETE", path`/v1/auth/keys/${id}`),
  };
}
