import type {
  AuthResult,
  Challenge,
  ChangePasswordBody,
  LoginBody,
  Me,
  RegisterBody,
  SessionInfo,
  Tokens,
} from "@warren/protocol";
import { signChallenge } from "../crypto/ed25519.js";
import type { Http } from "../transport/http.js";
import { path } from "./path.js";

/** /v1/auth: accounts and sessions. Token storage is the client's (client.ts). */
export function authResource(http: Http, onTokens: (tokens: Tokens | undefined) => void) {
  const keep = (result: AuthResult): AuthResult => {
    onTokens(result.tokens);
    return result;
  };
  return {
    register: async (body: RegisterBody) => keep(await http<AuthResult>("POST", "/v1/auth/register", body)),
    login: async (body: LoginBody) => keep(await http<AuthResult>("POST", "/v1/auth/login", body)),
    /** Key sign-in: asks for a challenge and signs it with the device's Ed25519 key. */
    async loginWithKey(who: { username?: string; public_key?: string }, secretKey: Uint8Array) {
      const c = await http<Challenge>("POST", "/v1/auth/challenge", who);
      const signature = signChallenge(secretKey, c.challenge);
      return keep(
        await http<AuthResult>("POST", "/v1/auth/verify", { challenge_id: c.challenge_id, signature }),
      );
    },
    async refresh(refreshToken: string): Promise<Tokens> {
      const { tokens } = await http<{ tokens: Tokens }>("POST", "/v1/auth/refresh", {
        refresh_token: refreshToken,
      });
      onTokens(tokens);
      return tokens;
    },
    async logout(): Promise<void> {
      await http<void>("POST", "/v1/auth/logout");
      onTokens(undefined);
    },
    me: () => http<Me>("GET", "/v1/auth/me"),

    /**
     * Proves again who holds this session (password and TOTP), so it may change
     * credentials for the server's FRESH_AUTH_WINDOW: keys, TOTP, a first password.
     */
    reauthenticate: (password: string, totp?: string) =>
      http<{ proved_at: string; fresh_until: string }>("POST", "/v1/auth/reauthenticate", {
        password,
        ...(totp === undefined ? {} : { totp }),
      }),
    /** The same proof with a signature by one of the account's Ed25519 keys. */
    async reauthenticateWithKey(who: { username?: string; public_key?: string }, secretKey: Uint8Array) {
      const c = await http<Challenge>("POST", "/v1/auth/challenge", who);
      return http<{ proved_at: string; fresh_until: string }>("POST", "/v1/auth/reauthenticate", {
        challenge_id: c.challenge_id,
        signature: signChallenge(secretKey, c.challenge),
      });
    },
    /** Sets a new password; other sessions end unless revoke_other_sessions is false. */
    changePassword: (body: ChangePasswordBody) =>
      http<{ revoked_sessions: number }>("POST", "/v1/auth/password", body),
    /** The account's live sessions, newest first; `current` marks this one. */
    sessions: async () => (await http<{ sessions: SessionInfo[] }>("GET", "/v1/auth/sessions")).sessions,
    revokeSession: (id: string) => http<void>("DELETE", path`/v1/auth/sessions/${id}`),
    /** Ends every session of the account but this one. */
    revokeOtherSessions: () => http<{ revoked_sessions: number }>("DELETE", "/v1/auth/sessions"),
  };
}
