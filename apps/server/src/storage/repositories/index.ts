import type { Kysely } from "kysely";
import type { Schema } from "../schema.js";
import { createAnalyticsRepository } from "./analytics.js";
import { createAuditRepository } from "./audit.js";
import { createBlocksRepository } from "./blocks.js";
import { createChallengesRepository } from "./challenges.js";
import { createChatRepository } from "./chat.js";
import { createDevicesRepository } from "./devices.js";
import { createDirectMessagesRepository } from "./direct-messages.js";
import { createInvitesRepository } from "./invites.js";
import { createKeysRepository } from "./keys.js";
import { createMembershipsRepository } from "./memberships.js";
import { createNetworksRepository } from "./networks.js";
import { createPeerPathsRepository } from "./peer-paths.js";
import { createPeersRepository } from "./peers.js";
import { createPersonalDataRepository } from "./personal-data.js";
import { createRecoveryCodesRepository } from "./recovery-codes.js";
import { createRoomsRepository } from "./rooms.js";
import { createSessionsRepository } from "./sessions.js";
import { createTenantsRepository } from "./tenants.js";
import { createUsersRepository } from "./users.js";

export function createRepositories(db: Kysely<Schema>) {
  return {
    users: createUsersRepository(db),
    keys: createKeysRepository(db),
    sessions: createSessionsRepository(db),
    challenges: createChallengesRepository(db),
    recoveryCodes: createRecoveryCodesRepository(db),
    audit: createAuditRepository(db),
    rooms: createRoomsRepository(db),
    memberships: createMembershipsRepository(db),
    networks: createNetworksRepository(db),
    devices: createDevicesRepository(db),
    peers: createPeersRepository(db),
    peerPaths: createPeerPathsRepository(db),
    tenants: createTenantsRepository(db),
    invites: createInvitesRepository(db),
    chat: createChatRepository(db),
    personalData: createPersonalDataRepository(db),
    analytics: createAnalyticsRepository(db),
    directMessages: createDirectMessagesRepository(db),
    blocks: createBlocksRepository(db),
  };
}

export type Repositories = ReturnType<typeof createRepositories>;

/**
 * The named repositories only, as a new object: what a service is handed is all it can
 * reach, not merely all its type admits.
 */
export function pick<K extends keyof Repositories>(
  repos: Repositories,
  ...names: K[]
): Pick<Repositories, K> {
  const slice = {} as Pick<Repositories, K>;
  for (const name of names) slice[name] = repos[name];
  return slice;
}
