import type { Kysely } from "kysely";
import type { Schema } from "../schema.js";
import { createAuditRepository } from "./audit.js";
import { createChallengesRepository } from "./challenges.js";
import { createKeysRepository } from "./keys.js";
import { createMembershipsRepository } from "./memberships.js";
import { createRecoveryCodesRepository } from "./recovery-codes.js";
import { createRoomsRepository } from "./rooms.js";
import { createSessionsRepository } from "./sessions.js";
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
  };
}

export type Repositories = ReturnType<typeof createRepositories>;
