import { uuidv7 } from "@warren/protocol";
import { afterAll, beforeAll } from "vitest";
import type { Database } from "../create-database.js";
import { uniqueViolation } from "../errors.js";
import { createRepositories, type Repositories } from "./index.js";
import type { NetworkRow } from "./networks.js";
import type { TenantRow } from "./tenants.js";
import type { UserRow } from "./users.js";

/** What storage.test.ts hands every contract: a migrated, empty database. */
export type Open = () => Promise<{ database: Database; drop(): Promise<void> }>;

export const now = () => new Date().toISOString();

/**
 * Opens one database for the enclosing describe and closes it after; the getters
 * answer inside tests. Call at the top of a describe body.
 */
export function useDatabase(open: Open) {
  const state = {} as { database: Database; drop: () => Promise<void>; repos: Repositories };
  beforeAll(async () => {
    const opened = await open();
    state.database = opened.database;
    state.drop = opened.drop;
    state.repos = createRepositories(opened.database.db);
  });
  afterAll(async () => {
    await state.database?.close();
    await state.drop?.();
  });
  return {
    db: () => state.database.db,
    repos: () => state.repos,
    /** Prerequisite rows, inserted through the repositories. */
    fixtures: () => fixtures(state.repos),
  };
}

let n = 0;

/** A user row not yet stored: a fresh unique username. */
export function newUser(over: Partial<UserRow> = {}): UserRow {
  n += 1;
  const username = `User_${n}_${Math.random().toString(36).slice(2, 8)}`;
  return {
    id: uuidv7(),
    username,
    username_key: username.toLowerCase(),
    email: null,
    email_key: null,
    display_name: null,
    password_hash: "h",
    totp_secret: null,
    totp_enabled_at: null,
    totp_last_step: null,
    is_admin: 0,
    created_at: now(),
    updated_at: now(),
    ...over,
  };
}

export function fixtures(repos: Repositories) {
  return {
    async user(over: Partial<UserRow> = {}): Promise<UserRow> {
      const u = newUser(over);
      await repos.users.insert(u);
      return u;
    },
    /** A community owned by `ownerId` (who becomes its owner member). */
    async tenant(ownerId: string, over: Partial<TenantRow> = {}): Promise<TenantRow> {
      n += 1;
      const name = over.name ?? `Tenant ${n} ${Math.random().toString(36).slice(2, 8)}`;
      const row: TenantRow = {
        id: uuidv7(),
        name,
        name_key: name.toLowerCase(),
        description: "",
        visibility: "public",
        access: "open",
        password_hash: null,
        owner_id: ownerId,
        created_at: now(),
        updated_at: now(),
        ...over,
      };
      await repos.tenants.insert(row, row.created_at);
      return row;
    },
    async network(tenantId: string, over: Partial<NetworkRow> = {}): Promise<NetworkRow> {
      n += 1;
      const row: NetworkRow = {
        id: uuidv7(),
        tenant_id: tenantId,
        name: `net-${n}`,
        description: "",
        cidr: `10.${n % 250}.0.0/24`,
        visibility: "public",
        join_policy: "open",
        required_role: "member",
        allocation: "sequential",
        created_at: now(),
        updated_at: now(),
        ...over,
      };
      await repos.networks.insert(row);
      return row;
    },
    async device(userId: string, name = "laptop") {
      const row = {
        id: uuidv7(),
        user_id: userId,
        name,
        platform: "linux" as const,
        public_key: `pk-${uuidv7()}`,
        last_seen: null,
        created_at: now(),
        updated_at: now(),
      };
      await repos.devices.insert(row);
      return row;
    },
    /** A peer of `deviceId` in the network at 10.x.y.`num` (address text is only a label). */
    async peer(networkId: string, deviceId: string, userId: string, num: number) {
      const row = {
        id: uuidv7(),
        network_id: networkId,
        device_id: deviceId,
        user_id: userId,
        address: `10.0.0.${num}`,
        address_num: num,
        endpoint: null,
        last_seen: null,
        created_at: now(),
        updated_at: now(),
      };
      await repos.peers.insert(row);
      return row;
    },
  };
}

/** Runs `fn` expecting a unique violation; returns which constraint it named. */
export async function violation(fn: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await fn();
  } catch (err) {
    const which = uniqueViolation(err);
    if (which === undefined) throw err;
    return which;
  }
  throw new Error("expected a unique violation");
}
