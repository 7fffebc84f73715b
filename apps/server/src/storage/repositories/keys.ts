import type { Insertable, Kysely, Selectable } from "kysely";
import { compiled } from "../compiled.js";
import type { Schema, UserKeysTable } from "../schema.js";

export type KeyRow = Selectable<UserKeysTable>;

export function createKeysRepository(db: Kysely<Schema>) {
  // Compiled once: every direct message reads both.
  const byId = compiled(db, (id: string) => db.selectFrom("user_keys").selectAll().where("id", "=", id));
  const messageKeysOf = compiled(db, (a: string, b: string) =>
    db
      .selectFrom("user_keys")
      .selectAll()
      .where("user_id", "in", [a, b])
      .where("kind", "=", "x25519")
      .where("device", "is not", null)
      .orderBy("id"),
  );
  return {
    async insert(row: Insertable<UserKeysTable>): Promise<void> {
      await db.insertInto("user_keys").values(row).execute();
    },
    async listForUser(userId: string): Promise<KeyRow[]> {
      return db.selectFrom("user_keys").selectAll().where("user_id", "=", userId).orderBy("id").execute();
    },
    async byId(id: string): Promise<KeyRow | undefined> {
      return (await byId(id))[0];
    },
    async byPublicKey(kind: KeyRow["kind"], publicKey: string): Promise<KeyRow | undefined> {
      return db
        .selectFrom("user_keys")
        .selectAll()
        .where("kind", "=", kind)
        .where("public_key", "=", publicKey)
        .executeTakeFirst();
    },
    /**
     * The X25519 keys of two users' devices (one user's when both are the same): the keys
     * a direct message between them is sealed for.
     */
    async messageKeys(a: string, b: string): Promise<KeyRow[]> {
      return messageKeysOf(a, b);
    },
    /** A device's key of one kind, if it has one. */
    async ofDevice(userId: string, device: string, kind: KeyRow["kind"]): Promise<KeyRow | undefined> {
      return db
        .selectFrom("user_keys")
        .selectAll()
        .where("user_id", "=", userId)
        .where("device", "=", device)
        .where("kind", "=", kind)
        .executeTakeFirst();
    },
    async delete(userId: string, id: string): Promise<boolean> {
      const result = await db
        .deleteFrom("user_keys")
        .where("id", "=", id)
        .where("user_id", "=", userId)
        .executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
  };
}

export type KeysRepository = ReturnType<typeof createKeysRepository>;
