import type { Redis } from "ioredis";
import type { Bus } from "../bus/bus.js";
import { topics } from "../bus/topics.js";
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import type { Sealer } from "../sealer.js";
import type { SharedState } from "../state/index.js";
import type { Database } from "../storage/create-database.js";
import { pick, type Repositories } from "../storage/repositories/index.js";
import { createAccounts } from "./accounts.js";
import { createAddresses } from "./addresses.js";
import { createAnalytics } from "./analytics.js";
import { createAnalyticsReports } from "./analytics-reports.js";
import { createAudit } from "./audit.js";
import { createAuditLog } from "./audit-log.js";
import { createBlocks } from "./blocks.js";
import { createBruteForceGuard } from "./brute-force.js";
import { registerBuiltinCommands } from "./builtin-commands.js";
import { createChat } from "./chat.js";
import { createCommands } from "./commands.js";
import { createDataRights } from "./data-rights.js";
import { createDevices } from "./devices.js";
import { createDirectMessages } from "./direct-messages.js";
import { createInvites } from "./invites.js";
import { createKeyChangeNotifier } from "./key-changes.js";
import { createNetworkMembers } from "./network-members.js";
import { createNetworks } from "./networks.js";
import { createPeerPaths } from "./peer-paths.js";
import { createPeers } from "./peers.js";
import { createPresence } from "./presence.js";
import { createReadiness } from "./readiness.js";
import { createRelayAccess } from "./relay-access.js";
import { createRooms } from "./rooms.js";
import { createScopes } from "./scopes.js";
import { createSessions } from "./sessions.js";
import { createSignIn } from "./sign-in.js";
import { createSignaling } from "./signaling.js";
import { createTenantMembers } from "./tenant-members.js";
import { createTenants } from "./tenants.js";
import { createTokenSigner } from "./tokens.js";
import { createTotp } from "./totp.js";

export interface ServiceDeps {
  database: Database;
  repos: Repositories;
  config: Readonly<Config>;
  signingSecret: Uint8Array;
  /** seals secrets stored in the database (DATA_ENCRYPTION_KEY) */
  sealer: Sealer;
  bus: Bus;
  state: SharedState;
  /** the Redis client when REDIS_URL is set: limiters shared by every instance */
  redis?: Redis;
  /** the time expiry, grace, bans and cleanup go by */
  clock: Clock;
}

/**
 * Wires every domain service once; routes, the hub and maintenance share these.
 * Returns services only: the infrastructure (database, bus, state, Redis) stays with
 * start.ts, which hands each piece to whoever needs exactly it.
 */
export function createServices({
  database,
  repos,
  config,
  signingSecret,
  sealer,
  bus,
  state,
  redis,
  clock,
}: ServiceDeps) {
  const audit = createAudit(repos.audit, { recordIp: config.auditClientIp });
  const signer = createTokenSigner(signingSecret, config.accessTokenTtlMs, clock);
  const sessions = createSessions(repos.sessions, signer, audit, {
    refreshTtlMs: config.refreshTokenTtlMs,
    freshAuthMs: config.freshAuthMs,
    clock,
    // A revoked session's sockets close on every instance.
    onRevoked: (userId, sessionId) =>
      bus.publish(topics.user(userId), { kind: "session.ended", session: sessionId }),
  });
  const guard = createBruteForceGuard({
    perAccount: config.loginMaxFailures,
    perIp: config.loginMaxFailuresPerIp,
    windowMs: config.loginFailureWindowMs,
    redis,
    keyPrefix: config.redis.keyPrefix,
  });
  const totp = createTotp(repos.users, repos.recoveryCodes, audit, guard, {
    issuer: config.totpIssuer,
    sealer,
  });
  const scopes = createScopes(repos.memberships, state);
  const accounts = createAccounts(
    database.db,
    pick(repos, "users", "keys"),
    audit,
    createKeyChangeNotifier(scopes, bus),
  );
  const signIn = createSignIn(pick(repos, "users", "keys", "challenges"), sessions, totp, guard, audit, {
    challengeTtlMs: config.challengeTtlMs,
    clock,
  });
  const roomPasswordGuard = createBruteForceGuard({
    perAccount: config.hub.roomPasswordMaxFailures,
    perIp: Number.MAX_SAFE_INTEGER,
    windowMs: config.loginFailureWindowMs,
    redis,
    keyPrefix: config.redis.keyPrefix,
    prefix: "room-password",
  });
  const rooms = createRooms(pick(repos, "rooms", "users"), state, bus, roomPasswordGuard, config.hub, clock);
  const presence = createPresence(state, bus);
  const commands = createCommands();
  registerBuiltinCommands(commands, { presence, startedAt: Date.now() });
  // Wrong community passwords count per user and community, like room passwords.
  const tenantPasswordGuard = createBruteForceGuard({
    perAccount: config.hub.roomPasswordMaxFailures,
    perIp: Number.MAX_SAFE_INTEGER,
    windowMs: config.loginFailureWindowMs,
    redis,
    keyPrefix: config.redis.keyPrefix,
    prefix: "tenant-password",
  });
  const tenantDeps = {
    db: database.db,
    repos: pick(repos, "tenants", "users", "invites"),
    bus,
    audit,
    passwordGuard: tenantPasswordGuard,
    clock,
  };
  const tenants = createTenants(tenantDeps);
  const invites = createInvites(tenantDeps);
  const tenantMembers = createTenantMembers({ ...tenantDeps, invites });
  const networkDeps = {
    db: database.db,
    dialect: database.dialect,
    repos: pick(repos, "networks", "tenants", "memberships", "users", "peers", "devices"),
    bus,
    audit,
    state,
  };
  const networks = createNetworks(networkDeps);
  const networkMembers = createNetworkMembers(networkDeps);
  const addresses = createAddresses(networkDeps);
  const devices = createDevices({
    db: database.db,
    repos: pick(repos, "devices", "peers"),
    bus,
    audit,
    state,
  });
  const peers = createPeers(networkDeps);
  const peerPaths = createPeerPaths({ repos: pick(repos, "peers", "peerPaths"), bus });
  // A hub socket opened with a registered device's id makes that device online in its networks.
  scopes.listen({ connected: peers.connected, disconnected: peers.disconnected });
  const chat = createChat(repos.chat, repos.users, bus, audit);
  const auditLog = createAuditLog(repos.audit, repos.memberships);
  const analytics = createAnalytics({
    repo: repos.analytics,
    flushIntervalMs: config.analytics.flushIntervalMs,
    retentionDays: config.analytics.retentionDays,
    recoverAllAtStart: database.dialect === "sqlite",
  });
  const analyticsReports = createAnalyticsReports({
    repos: pick(repos, "users", "analytics"),
    analytics,
    adminUsers: config.adminUsers,
  });
  const directMessages = createDirectMessages({
    db: database.db,
    repos: pick(repos, "directMessages", "keys", "blocks"),
    bus,
    state,
    scopes,
    config: config.messages,
  });
  const blocks = createBlocks(pick(repos, "blocks", "users"), audit);
  // DELETE /v1/me checks the password: wrong guesses count like failed sign-ins.
  const deletePasswordGuard = createBruteForceGuard({
    perAccount: config.loginMaxFailures,
    perIp: config.loginMaxFailuresPerIp,
    windowMs: config.loginFailureWindowMs,
    redis,
    keyPrefix: config.redis.keyPrefix,
    prefix: "delete-account",
  });
  const dataRights = createDataRights({
    db: database.db,
    repos: pick(repos, "users", "analytics", "blocks", "directMessages", "personalData"),
    bus,
    audit,
    rooms,
    guard: deletePasswordGuard,
  });
  const readiness = createReadiness(database, bus);
  const relayAccess = createRelayAccess({ devices: repos.devices, peers: repos.peers });
  const signaling = createSignaling({ rooms: state.rooms, scopes });
  return {
    readiness,
    relayAccess,
    signaling,
    audit,
    sessions,
    totp,
    accounts,
    signIn,
    rooms,
    presence,
    commands,
    scopes,
    chat,
    auditLog,
    analytics,
    analyticsReports,
    directMessages,
    blocks,
    dataRights,
    tenants,
    tenantMembers,
    invites,
    networks,
    networkMembers,
    addresses,
    devices,
    peers,
    peerPaths,
  };
}

export type Services = ReturnType<typeof createServices>;
