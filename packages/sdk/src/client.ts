import type { Tokens } from "@warren/protocol";
import { WarrenError } from "./errors.js";
import { createDirect } from "./messaging/direct.js";
import { accountResource } from "./resources/account.js";
import { analyticsResource } from "./resources/analytics.js";
import { auditResource } from "./resources/audit.js";
import { authResource } from "./resources/auth.js";
import { devicesResource } from "./resources/devices.js";
import { invitesResource } from "./resources/invites.js";
import { meResource } from "./resources/me.js";
import { messagesResource } from "./resources/messages.js";
import { networksResource } from "./resources/networks.js";
import { peersResource } from "./resources/peers.js";
import { tenantsResource } from "./resources/tenants.js";
import { usersResource } from "./resources/users.js";
import { createHttp } from "./transport/http.js";
import { jwtExpiresAt } from "./transport/jwt.js";
import { createSocket } from "./transport/socket.js";
import type { SocketOptions } from "./transport/socket-types.js";

export interface ClientOptions {
  baseUrl: string;
  fetch?: typeof fetch;
  tokens?: Tokens;
  /** called whenever tokens change (sign-in, refresh, logout), e.g. to persist them */
  onTokens?: (tokens: Tokens | undefined) => void;
}

/** A socket refreshes a token that expires within this much before connecting with it. */
const SOCKET_TOKEN_MARGIN_MS = 30_000;

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

  /** One refresh for any number of callers that found the token expired together. */
  const refresh = (current: Tokens): Promise<Tokens> => {
    refreshing ??= auth.refresh(current.refresh_token).finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  };

  const http = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const sentWith = tokens;
    try {
      return await raw<T>(method, path, body);
    } catch (err) {
      if (!(err instanceof WarrenError) || err.code !== "token_expired" || !tokens) throw err;
      // A call that was answered after another one refreshed just retries with the new token.
      if (tokens === sentWith) await refresh(tokens);
      return raw<T>(method, path, body);
    }
  };
  // /auth/refresh never answers token_expired, so refreshing through `http` cannot loop.
  const auth = authResource(http, setTokens);

  /**
   * An access token for a new socket. A socket cannot refresh over the wire and a
   * browser cannot see a refused upgrade's 401, so it refreshes ahead of time, or
   * always with `force` (after an upgrade failed).
   */
  async function accessToken(force = false): Promise<string> {
    if (!tokens) throw new WarrenError("unauthorized", "Sign in first: the client has no tokens", 401);
    const expiresAt = jwtExpiresAt(tokens.access_token) ?? 0;
    if (force || expiresAt - Date.now() < SOCKET_TOKEN_MARGIN_MS) return (await refresh(tokens)).access_token;
    return tokens.access_token;
  }

  /** A hub socket for this client's user; call connect() on it. */
  const socket = (socketOptions: SocketOptions = {}) =>
    createSocket({ baseUrl: options.baseUrl, accessToken }, socketOptions);

  return {
    auth,
    /** my second factor (TOTP) and public keys */
    account: accountResource(http),
    /** a community's audit log (admins) */
    audit: auditResource(http),
    /** server analytics (server admins) */
    analytics: analyticsResource(http),
    /** public profiles by id */
    users: usersResource(http),
    tenants: tenantsResource(http),
    invites: invitesResource(http),
    networks: networksResource(http),
    devices: devicesResource(http),
    peers: peersResource(http),
    /** community and network chat (for one-to-one encrypted messages, see `direct`) */
    messages: messagesResource(http),
    /** end-to-end encrypted direct messages: setup({device}) first, then send / messages() */
    direct: createDirect({ http, socket }),
    me: meResource(http, setTokens),
    request: http,
    socket,
    get tokens() {
      return tokens;
    },
  };
}

export type Client = ReturnType<typeof createClient>;
