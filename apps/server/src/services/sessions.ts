import { type SessionInfo, type Tokens, uuidv7 } from "@warren/protocol";
import { type Clock, systemClock } from "../clock.js";
import { AppError } from "../errors.js";
import type { SessionsRepository } from "../storage/repositories/sessions.js";
import type { Audit } from "./audit.js";
import { isoAfter, nowIso, type RequestContext } from "./context.js";
import { randomToken, sha256, type TokenSigner } from "./tokens.js";

export interface SessionsOptions {
  refreshTtlMs: number;
  /** how recent the session's last proof of identity must be for credential changes */
  freshAuthMs: number;
  /** told after a session is revoked, e.g. to close its sockets */
  onRevoked?: (userId: string, sessionId: string) => unknown;
  /** the time sessions expire and freshness is judged by (the system clock by default) */
  clock?: Clock;
}

export interface Principal {
  userId: string;
  sessionId: string;
  /** the Ed25519 key this session signed in with, if it was a key sign-in */
  signinKeyId: string | null;
  /** when the holder last proved who they are: sign-in, or reauthentication */
  provedAt: string;
}

const USER_AGENT_MAX = 200;

/**
 * Sessions and their tokens. A session is one sign-in; it holds a chain of refresh
 * tokens of which only the newest works. Access tokens name their session (sid), so
 * revoking the session ends them too.
 */
export function createSessions(
  repo: SessionsRepository,
  signer: TokenSigner,
  audit: Audit,
  options: SessionsOptions,
) {
  const clock = options.clock ?? systemClock;
  const newRefresh = (sessionId: string, created: number) => {
    const token = randomToken();
    return {
      token,
      row: {
        id: uuidv7(),
        session_id: sessionId,
        token_hash: sha256(token),
        created_at: new Date(created).toISOString(),
        expires_at: isoAfter(options.refreshTtlMs, created),
        rotated_at: null,
      },
    };
  };

  const tokensFor = async (userId: string, sessionId: string, refresh: string, refreshExpiresAt: string) => {
    const access = await signer.sign(userId, sessionId);
    const tokens: Tokens = {
      token_type: "Bearer",
      access_token: access.token,
      expires_in: signer.ttlSeconds,
      expires_at: access.expiresAt.toISOString(),
      refresh_token: refresh,
      refresh_expires_at: refreshExpiresAt,
      session_id: sessionId,
    };
    return tokens;
  };

  const revoke = async (userId: string, sessionId: string, reason: string) => {
    if (await repo.revoke(sessionId, nowIso(clock.now()), reason))
      await options.onRevoked?.(userId, sessionId);
  };

  return {
    async start(userId: string, signinKeyId: string | null = null, ctx?: RequestContext): Promise<Tokens> {
      const created = clock.now();
      const sessionId = uuidv7();
      const refresh = newRefresh(sessionId, created);
      await repo.create(
        {
          id: sessionId,
          user_id: userId,
          created_at: refresh.row.created_at,
          refreshed_at: refresh.row.created_at,
          expires_at: refresh.row.expires_at,
          revoked_at: null,
          revoke_reason: null,
          signin_key_id: signinKeyId,
          proved_at: refresh.row.created_at,
          user_agent: ctx?.userAgent?.slice(0, USER_AGENT_MAX) ?? null,
        },
        refresh.row,
      );
      return tokensFor(userId, sessionId, refresh.token, refresh.row.expires_at);
    },

    /**
     * Rotates a refresh token. Presenting one that was already rotated means two
     * parties hold it, so the whole session is revoked (RFC 9700 §4.14.2). Of two
     * concurrent refreshes with one token, exactly one wins; the other counts as reuse.
     */
    async refresh(token: string, ctx: RequestContext): Promise<Tokens> {
      const row = await repo.tokenByHash(sha256(token));
      if (!row) throw new AppError("invalid_refresh_token");
      const session = await repo.byId(row.session_id);
      const now = nowIso(clock.now());
      if (!session || session.revoked_at) throw new AppError("invalid_refresh_token");
      const reused = async () => {
        await revoke(session.user_id, session.id, "refresh_reused");
        await audit.record("session.refresh_reused", { actorId: session.user_id, target: session.id }, ctx);
        return new AppError("refresh_reused");
      };
      if (row.rotated_at) throw await reused();
      if (row.expires_at <= now || session.expires_at <= now) throw new AppError("invalid_refresh_token");
      const next = newRefresh(session.id, clock.now());
      if (!(await repo.rotate(row.id, next.row, next.row.expires_at))) throw await reused();
      return tokensFor(session.user_id, session.id, next.token, next.row.expires_at);
    },

    async logout(principal: Principal, ctx: RequestContext): Promise<void> {
      await revoke(principal.userId, principal.sessionId, "logout");
      await audit.record("session.logout", { actorId: principal.userId, target: principal.sessionId }, ctx);
    },

    /** Verifies an access token and that its session is still live. */
    async authenticate(accessToken: string): Promise<Principal> {
      const claims = await signer.verify(accessToken);
      const session = await repo.byId(claims.sid);
      if (
        !session ||
        session.user_id !== claims.sub ||
        session.revoked_at ||
        session.expires_at <= nowIso(clock.now())
      ) {
        throw new AppError("invalid_token", "The session of this token has ended");
      }
      return {
        userId: claims.sub,
        sessionId: claims.sid,
        signinKeyId: session.signin_key_id,
        provedAt: session.proved_at ?? session.created_at,
      };
    },

    /**
     * An access token's principal with the account facts a WebSocket upgrade needs
     * (username, admin flag, the sign-in key's public key), from one query.
     */
    async identify(accessToken: string) {
      const claims = await signer.verify(accessToken);
      const row = await repo.withAccount(claims.sid);
      if (!row || row.user_id !== claims.sub || row.revoked_at || row.expires_at <= nowIso(clock.now())) {
        throw new AppError("invalid_token", "The session of this token has ended");
      }
      const principal: Principal = {
        userId: claims.sub,
        sessionId: claims.sid,
        signinKeyId: row.signin_key_id,
        provedAt: row.proved_at ?? row.created_at,
      };
      return {
        principal,
        user: {
          id: row.user_id,
          username: row.username,
          username_key: row.username_key,
          is_admin: row.is_admin,
        },
        signinKey: row.signin_key ?? null,
      };
    },

    /**
     * Adding or replacing a credential needs a recent proof of identity on this session
     * (reauthentication_required otherwise): an access token taken from the victim lives
     * minutes and a refresh token never renews the proof, so neither can plant a key,
     * turn TOTP on or set a password that would outlive it.
     */
    requireFresh(principal: Principal): void {
      const age = clock.now() - Date.parse(principal.provedAt);
      if (age <= options.freshAuthMs) return;
      throw new AppError("reauthentication_required", undefined, {
        details: { max_age_seconds: Math.round(options.freshAuthMs / 1000) },
      });
    },

    /** The holder just proved who they are again (POST /v1/auth/reauthenticate). */
    async proved(principal: Principal): Promise<{ proved_at: string; fresh_until: string }> {
      const at = clock.now();
      await repo.setProved(principal.sessionId, new Date(at).toISOString());
      return {
        proved_at: new Date(at).toISOString(),
        fresh_until: new Date(at + options.freshAuthMs).toISOString(),
      };
    },

    /** The account's sessions that still work, newest first; `current` marks the asker's. */
    async list(principal: Principal): Promise<SessionInfo[]> {
      const rows = await repo.listLive(principal.userId, nowIso(clock.now()));
      return rows.map((row) => ({
        id: row.id,
        created_at: row.created_at,
        refreshed_at: row.refreshed_at,
        expires_at: row.expires_at,
        proved_at: row.proved_at ?? row.created_at,
        method: row.signin_key_id ? ("key" as const) : ("password" as const),
        user_agent: row.user_agent,
        current: row.id === principal.sessionId,
      }));
    },

    /** Ends one of the account's sessions; another account's answers like a missing one. */
    async revokeOne(principal: Principal, sessionId: string, ctx: RequestContext): Promise<void> {
      const row = await repo.byId(sessionId);
      if (!row || row.user_id !== principal.userId || row.revoked_at) {
        throw new AppError("not_found", "No such session");
      }
      await revoke(principal.userId, sessionId, "revoked");
      await audit.record("session.revoke", { actorId: principal.userId, target: sessionId }, ctx);
    },

    /** Ends every session of the account but `keep` (the asker's own, usually). */
    async revokeOthers(userId: string, keep: string | null, reason: string, ctx: RequestContext) {
      const rows = await repo.listLive(userId, nowIso(clock.now()));
      let count = 0;
      for (const row of rows) {
        if (row.id === keep) continue;
        await revoke(userId, row.id, reason);
        count += 1;
      }
      if (count > 0) {
        await audit.record("session.revoke_others", { actorId: userId, details: { count, reason } }, ctx);
      }
      return count;
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;
