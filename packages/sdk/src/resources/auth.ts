import type { AuthResult, Challenge, LoginBody, Me, RegisterBody, Tokens } from "@warren/protocol";
import { signChallenge } from "../crypto/ed25519.js";
import type { Http } from "../transport/http.js";

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
  };
}
