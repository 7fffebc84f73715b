import type { Tokens } from "@warren/protocol";
import { WarrenError } from "./errors.js";
import { authResource } from "./resources/auth.js";
import { createHttp } from "./transport/http.js";

export interface ClientOptions {
  baseUrl: string;
  fetch?: typeof fetch;
  tokens?: Tokens;
  /** called whenever tokens change (sign-in, refresh, logout), e.g. to persist them */
  onTokens?: (tokens: Tokens | undefined) => void;
}

/**
 * The warren client. Holds the session's tokens and, when a call fails with
 * token_expired, refreshes once and retries, so callers never handle expiry.
 */
export function createClient(options: ClientOptions) {
  let tokens = options.tokens;
  const setTokens = (next: Tokens | undefined) => {
    tokens = next;
    options.onTokens?.(next);
  };
  const raw = createHttp({
    baseUrl: options.baseUrl,
    fetch: options.fetch,
    token: () => tokens?.access_token,
  });
  let refreshing: Promise<Tokens> | undefined;

  const http = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    try {
      return await raw<T>(method, path, body);
    } catch (err) {
      if (!(err instanceof WarrenError) || err.code !== "token_expired" || !tokens) throw err;
      // One refresh for any number of calls that found the token expired together.
      refreshing ??= auth.refresh(tokens.refresh_token).finally(() => {
        refreshing = undefined;
      });
      await refreshing;
      return raw<T>(method, path, body);
    }
  };
  // /auth/refresh never answers token_expired, so refreshing through `http` cannot loop.
  const auth = authResource(http, setTokens);

  return {
    auth,
    request: http,
    get tokens() {
      return tokens;
    },
  };
}

export type Client = ReturnType<typeof createClient>;
