import { describe, expect, it } from "vitest";
import { backends, postgresBackend, sqliteBackend } from "../../test/helpers/backends.js";
import { createDatabase } from "./create-database.js";
import { describeSchema } from "./introspect.js";
import { migrate } from "./migrations/index.js";
import { analyticsRepositoryContract } from "./repositories/analytics.contract.js";
import { auditContract } from "./repositories/audit.contract.js";
import { blocksContract } from "./repositories/blocks.contract.js";
import { challengesContract } from "./repositories/challenges.contract.js";
import { chatContract } from "./repositories/chat.contract.js";
import { devicesContract } from "./repositories/devices.contract.js";
import { directMessagesContract } from "./repositories/direct-messages.contract.js";
import { invitesContract } from "./repositories/invites.contract.js";
import { keysContract } from "./repositories/keys.contract.js";
import { membershipsContract } from "./repositories/memberships.contract.js";
import { networksContract } from "./repositories/networks.contract.js";
import { peerPathsContract } from "./repositories/peer-paths.contract.js";
import { peersContract } from "./repositories/peers.contract.js";
import { personalDataContract } from "./repositories/personal-data.contract.js";
import { recoveryCodesContract } from "./repositories/recovery-codes.contract.js";
import { roomsContract } from "./repositories/rooms.contract.js";
import { sessionsContract } from "./repositories/sessions.contract.js";
import { tenantsContract } from "./repositories/tenants.contract.js";
import { usersContract } from "./repositories/users.contract.js";

for (const backend of backends()) {
  const open = async () => {
    const made = await backend.create();
    const database = createDatabase({ databaseUrl: made.databaseUrl, dbPath: made.dbPath });
    await migrate(database.db);
    return { database, drop: made.drop };
  };
  analyticsRepositoryContract(backend.name, open);
  peersContract(backend.name, open);
  chatContract(backend.name, open);
  personalDataContract(backend.name, open);
  peerPathsContract(backend.name, open);
  devicesContract(backend.name, open);
  membershipsContract(backend.name, open);
  networksContract(backend.name, open);
  invitesContract(backend.name, open);
  tenantsContract(backend.name, open);
  roomsContract(backend.name, open);
  blocksContract(backend.name, open);
  usersContract(backend.name, open);
  keysContract(backend.name, open);
  sessionsContract(backend.name, open);
  challengesContract(backend.name, open);
  recoveryCodesContract(backend.name, open);
  auditContract(backend.name, open);
  directMessagesContract(backend.name, open);

  describe(`migrations on ${backend.name}`, () => {
    it("apply once; running them again changes nothing", async () => {
      const made = await backend.create();
      const database = createDatabase({ databaseUrl: made.databaseUrl, dbPath: made.dbPath });
      try {
        expect((await migrate(database.db)).length).toBeGreaterThan(0);
        const before = await describeSchema(database.db, database.dialect);
        expect(await migrate(database.db)).toEqual([]);
        expect(await describeSchema(database.db, database.dialect)).toEqual(before);
        expect(Object.keys(before.tables).sort()).toEqual([
          "address_reservations",
          "analytics_active_users",
          "analytics_instances",
          "analytics_message_counts",
          "analytics_open_sessions",
          "analytics_sessions",
          "audit_events",
          "auth_challenges",
          "chat_messages",
          "devices",
          "direct_message_copies",
          "direct_messages",
          "invites",
          "network_bans",
          "network_members",
          "networks",
          "peer_paths",
          "peers",
          "recovery_codes",
          "refresh_tokens",
          "room_bans",
          "rooms",
          "sessions",
          "tenant_bans",
          "tenant_members",
          "tenants",
          "user_blocks",
          "user_keys",
          "users",
        ]);
      } finally {
        await database.close();
        await made.drop();
      }
    });
  });
}

if (postgresBackend) {
  const pg = postgresBackend;
  describe("schema on both dialects", () => {
    it("is the same: tables, columns, types, nullability, indexes", async () => {
      const shapes = [];
      for (const backend of [sqliteBackend, pg]) {
        const made = await backend.create();
        const database = createDatabase({ databaseUrl: made.databaseUrl, dbPath: made.dbPath });
        try {
          await migrate(database.db);
          shapes.push(await describeSchema(database.db, database.dialect));
        } finally {
          await database.close();
          await made.drop();
        }
      }
      expect(shapes[1]).toEqual(shapes[0]);
      expect(shapes[0]?.tables.users?.indexes).toContain("users_username_key_unique");
    });
  });
}
