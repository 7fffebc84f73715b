import type { Config } from "../config.js";
import type { Database } from "../storage/create-database.js";
import { createRepositories } from "../storage/repositories/index.js";
import { createAccounts } from "./accounts.js";
import { createAudit } from "./audit.js";
import { createBruteForceGuard } from "./brute-force.js";
import { createSessions } from "./sessions.js";
import { createSignIn } from "./sign-in.js";
import { createTokenSigner } from "./tokens.js";
import { createTotp } from "./totp.js";

export interface ServiceDeps {
  database: Database;
  config: Readonly<Config>;
  signingSecret: Uint8Array;
  /** an ioredis client when REDIS_URL is set */
  redis?: unknown;
}

/** Wires every domain service once; routes and (later) hub handlers share these. */
export function createServices({ database, config, signingSecret, redis }: ServiceDeps) {
  const repos = createRepositories(database.db);
  const audit = createAudit(repos.audit, { recordIp: config.auditClientIp });
  const signer = createTokenSigner(signingSecret, config.accessTokenTtlMs);
  const sessions = createSessions(repos.sessions, signer, audit, { refreshTtlMs: config.refreshTokenTtlMs });
  const guard = createBruteForceGuard({
    perAccount: config.loginMaxFailures,
    perIp: config.loginMaxFailuresPerIp,
    windowMs: config.loginFailureWindowMs,
    redis,
  });
  const totp = createTotp(repos.users, repos.recoveryCodes, audit, guard, { issuer: config.totpIssuer });
  const accounts = createAccounts(database.db, repos, audit);
  const signIn = createSignIn(repos, sessions, totp, guard, audit, { challengeTtlMs: config.challengeTtlMs });
  return { database, repos, audit, sessions, totp, accounts, signIn };
}

export type Services = ReturnType<typeof createServices>;
