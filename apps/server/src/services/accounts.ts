import {
  type AddKeyBody,
  type Me,
  type PublicKeyRecord,
  type RegisterBody,
  type User,
  uuidv7,
} from "@warren/protocol";
import type { Kysely } from "kysely";
import { AppError } from "../errors.js";
import { uniqueViolation } from "../storage/errors.js";
import { createRepositories, type Repositories } from "../storage/repositories/index.js";
import type { KeyRow } from "../storage/repositories/keys.js";
import type { UserRow } from "../storage/repositories/users.js";
import type { Schema } from "../storage/schema.js";
import type { Audit } from "./audit.js";
import { nowIso, type RequestContext } from "./context.js";
import type { KeyChangeNotifier } from "./key-changes.js";
import { hashPassword } from "./passwords.js";
import { validatePublicKey } from "./public-keys.js";

export function toUser(row: UserRow): User {
  return { id: row.id, username: row.username, display_name: row.display_name, created_at: row.created_at };
}

export function toKey(row: KeyRow): PublicKeyRecord {
  return {
    id: row.id,
    kind: row.kind,
    public_key: row.public_key,
    label: row.label,
    device: row.device,
    created_at: row.created_at,
  };
}

/** What the audit log keeps of a key: its kind, and its device for a device's key. */
const keyDetails = (key: KeyRow) =>
  key.device === null ? { kind: key.kind } : { kind: key.kind, device: key.device };

/** Turns a unique-constraint failure into the conflict the client should see. */
function conflictOf(err: unknown): AppError | undefined {
  const hit = uniqueViolation(err);
  if (hit === undefined) return undefined;
  if (hit.includes("username")) return new AppError("username_taken", undefined, { cause: err });
  if (hit.includes("email")) return new AppError("email_taken", undefined, { cause: err });
  // Before public_key: SQLite names this index's columns, user_keys.user_id, .device, .kind.
  if (hit.includes("device")) return new AppError("device_key_exists", undefined, { cause: err });
  if (hit.includes("public_key")) return new AppError("key_taken", undefined, { cause: err });
  return undefined;
}

/** The insert hit the one-first-admin index: another first registration won the race. */
function firstAdminTaken(err: unknown): boolean {
  const hit = uniqueViolation(err);
  return hit !== undefined && (hit.includes("is_admin") || hit.includes("first_admin"));
}

/** Accounts, their profiles and their public keys. */
export function createAccounts(
  db: Kysely<Schema>,
  repos: Pick<Repositories, "users" | "keys">,
  audit: Audit,
  keysChanged: KeyChangeNotifier,
) {
  const mustFind = async (id: string): Promise<UserRow> => {
    const row = await repos.users.byId(id);
    if (!row) throw new AppError("not_found", "No such user");
    return row;
  };

  return {
    /**
     * Creates an account with a password, an Ed25519 key, or both. `admin`: it is the
     * first account on an empty server, so a server admin: a new server has one before
     * ADMIN_USERS names anyone.
     */
    async register(body: RegisterBody, ctx: RequestContext): Promise<{ user: User; admin: boolean }> {
      if (!body.password && !body.public_key) {
        throw new AppError("invalid_request", "Give a password, a public_key, or both", {
          details: { fields: ["password", "public_key"] },
        });
      }
      const publicKey = body.public_key ? validatePublicKey("ed25519", body.public_key) : undefined;
      // Cheap early answer for the common case; the unique index decides races.
      if (await repos.users.byUsername(body.username)) throw new AppError("username_taken");
      const now = nowIso();
      const user: UserRow = {
        id: uuidv7(),
        username: body.username,
        username_key: body.username.toLowerCase(),
        email: body.email ?? null,
        email_key: body.email ? body.email.toLowerCase() : null,
        display_name: body.display_name ?? null,
        password_hash: body.password ? await hashPassword(body.password) : null,
        totp_secret: null,
        totp_enabled_at: null,
        totp_last_step: null,
        created_at: now,
        updated_at: now,
        is_admin: 0,
      };
      // Whether the server is empty is decided in the transaction that inserts; of two
      // first registrations racing on PostgreSQL, the unique index lets one be admin and
      // the other is inserted again as a plain account.
      const insert = (mayBeFirst: boolean) =>
        db.transaction().execute(async (tx) => {
          const r = createRepositories(tx);
          user.is_admin = mayBeFirst && !(await r.users.any()) ? 1 : 0;
          await r.users.insert(user);
          if (publicKey) {
            await r.keys.insert({
              id: uuidv7(),
              user_id: user.id,
              kind: "ed25519",
              public_key: publicKey,
              label: "registration",
              created_at: now,
            });
          }
        });
      try {
        await insert(true).catch((err) => {
          if (firstAdminTaken(err)) return insert(false);
          throw err;
        });
      } catch (err) {
        throw conflictOf(err) ?? err;
      }
      await audit.record(
        "account.register",
        { actorId: user.id, target: user.id, ...(user.is_admin ? { details: { server_admin: true } } : {}) },
        ctx,
      );
      return { user: toUser(user), admin: user.is_admin === 1 };
    },

    async me(userId: string, sessionId: string): Promise<Me> {
      const row = await mustFind(userId);
      return {
        ...toUser(row),
        email: row.email,
        has_password: row.password_hash !== null,
        totp_enabled: row.totp_enabled_at !== null,
        session_id: sessionId,
      };
    },

    profile: async (id: string): Promise<User> => toUser(await mustFind(id)),

    async keys(userId: string): Promise<PublicKeyRecord[]> {
      await mustFind(userId);
      return (await repos.keys.listForUser(userId)).map(toKey);
    },

    async usernameAvailable(username: string): Promise<boolean> {
      return (await repos.users.byUsername(username)) === undefined;
    },

    async addKey(userId: string, body: AddKeyBody, ctx: RequestContext): Promise<PublicKeyRecord> {
      const row: KeyRow = {
        id: uuidv7(),
        user_id: userId,
        kind: body.kind,
        public_key: validatePublicKey(body.kind, body.public_key),
        label: body.label ?? null,
        created_at: nowIso(),
        device: body.device ?? null,
      };
      try {
        await repos.keys.insert(row);
      } catch (err) {
        throw conflictOf(err) ?? err;
      }
      await audit.record("key.add", { actorId: userId, target: row.id, details: keyDetails(row) }, ctx);
      await keysChanged(row, "added");
      return toKey(row);
    },

    async deleteKey(userId: string, keyId: string, ctx: RequestContext): Promise<void> {
      const key = await repos.keys.byId(keyId);
      // Another account's key answers exactly like a missing one.
      if (!key || key.user_id !== userId) throw new AppError("not_found", "No such key");
      await db.transaction().execute(async (tx) => {
        const r = createRepositories(tx);
        if (key.kind === "ed25519") {
          // Writing the account row first locks it: concurrent deletions of its keys
          // take turns, so two of them cannot each count the other key and leave
          // the account with no way to sign in.
          await r.users.update(userId, { updated_at: nowIso() });
          const user = await r.users.byId(userId);
          if (!user) throw new AppError("not_found", "No such user");
          const signKeys = (await r.keys.listForUser(userId)).filter((k) => k.kind === "ed25519");
          if (!user.password_hash && signKeys.length <= 1) {
            throw new AppError("last_credential", "This key is the only way to sign in to this account");
          }
        }
        if (!(await r.keys.delete(userId, keyId))) throw new AppError("not_found", "No such key");
      });
      await audit.record("key.delete", { actorId: userId, target: keyId, details: keyDetails(key) }, ctx);
      await keysChanged(key, "removed");
    },
  };
}

export type Accounts = ReturnType<typeof createAccounts>;
