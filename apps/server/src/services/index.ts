import type { Bus } from "../bus/bus.js";
import { topics } from "../bus/topics.js";
import type { Config } from "../config.js";
import type { SharedState } from "../state/index.js";
import type { Database } from "../storage/create-database.js";
import { createRepositories } from "../storage/repositories/index.js";
import { createAccounts } from "./accounts.js";
import { createAudit } from "./audit.js";
import { createBruteForceGuard } from "./brute-force.js";
import { registerBuiltinCommands } from "./builtin-commands.js";
import { createCommands } from "./commands.js";
import { createPresence } from "./presence.js";
import { createRooms } from "./rooms.js";
import { createScopes } from "./scopes.js";
import { createSessions } from "./sessions.js";
import { createSignIn } from "./sign-in.js";
import { createTokenSigner } from "./tokens.js";
import { createTotp } from "./totp.js";

export interface ServiceDeps {
  database: Database;
  config: Readonly<Config>;
  signingSecret: Uint8Array;
  bus: Bus;
  state: SharedState;
  /** an ioredis client when REDIS_URL is set */
  redis?: unknown;
}

/** Wires every domain service once; routes and (later) hub handlers share these. */
export function createServices({ database, config, signingSecret, bus, state, redis }: ServiceDeps) {
  const repos = createRepositories(database.db);
  const audit = createAudit(repos.audit, { recordIp: config.auditClientIp });
  const signer = createTokenSigner(signingSecret, config.accessTokenTtlMs);
  const sessions = createSessions(repos.sessions, signer, audit, {
    refreshTtlMs: config.refreshTokenTtlMs,
    // A revoked session's sockets close on every instance.
    onRevoked: (userId, sessionId) =>
      bus.publish(topics.user(userId), { kind: "session.ended", session: sessionId }),
  });
  const guard = createBruteForceGuard({
    perAccount: config.loginMaxFailures,
    perIp: config.loginMaxFailuresPerIp,
    windowMs: config.loginFailureWindowMs,
    redis,
  });
  const totp = createTotp(repos.users, repos.recoveryCodes, audit, guard, { issuer: config.totpIssuer });
  const accounts = createAccounts(database.db, repos, audit);
  const signIn = createSignIn(repos, sessions, totp, guard, audit, { challengeTtlMs: config.challengeTtlMs });
  const roomPasswordGuard = createBruteForceGuard({
    perAccount: config.hub.roomPasswordMaxFailures,
    perIp: Number.MAX_SAFE_INTEGER,
    windowMs: config.loginFailureWindowMs,
    redis,
    prefix: "room-password",
  });
  const rooms = createRooms(repos, state, bus, roomPasswordGuard, config.hub);
  const presence = createPresence(state, bus);
  const scopes = createScopes(repos.memberships, state);
  const commands = createCommands();
  registerBuiltinCommands(commands, { presence, startedAt: Date.now() });
  return {
    database,
    repos,
    audit,
    sessions,
    totp,
    accounts,
    signIn,
    state,
    rooms,
    presence,
    commands,
    scopes,
  };
}

export type Services = ReturnType<typeof createServices>;
