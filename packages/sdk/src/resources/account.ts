import type { PublicKeyRecord } from "@warren/protocol";
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
 * The signed-in account's second factor and public keys (/v1/auth/totp, /v1/auth/keys).
 * Adding or removing a key and every TOTP change need a fresh proof of identity: on 403
 * reauthentication_required, call auth.reauthenticate and retry.
 */
export function accountResource(http: Http) {
  return {
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
