import type { Kysely, Selectable } from "kysely";
import { compiled } from "../compiled.js";
import type { RefreshTokensTable, Schema, SessionsTable } from "../schema.js";

export type SessionRow = Selectable<SessionsTable>;
export type RefreshTokenRow = Selectable<RefreshTokensTable>;

export function createSessionsRepository(db: Kysely<Schema>) {
  const withAccount = compiled(db, (id: string) =>
    db
      .selectFrom("sessions")
      .innerJoin("users", "users.id", "sessions.user_id")
      .leftJoin("user_keys", "user_keys.id", "sessions.signin_key_id")
      .select([
        "sessions.id",
        "sessions.user_id",
        "sessions.created_at",
        "sessions.expires_at",
        "sessions.revoked_at",
        "sessions.signin_key_id",
        "sessions.proved_at",
        "users.username",
        "users.username_key",
        "users.is_admin",
        "user_keys.public_key as signin_key",
      ])
      .where("sessions.id", "=", id),
  );
  return {
    /** A new session and its first refresh token, in one transaction. */
    async create(session: SessionRow, token: RefreshTokenRow): Promise<void> {
      await db.transaction().execute(async (tx) => {
        await tx.insertInto("sessions").values(session).execute();
        await tx.insertInto("refresh_tokens").values(token).execute();
      });
    },
    async byId(id: string): Promise<SessionRow | undefined> {
      return db.selectFrom("sessions").selectAll().where("id", "=", id).executeTakeFirst();
    },
    /**
     * A session with what a WebSocket upgrade needs of its account and sign-in key, in
     * one query: an upgrade is on the reconnect path of every client.
     */
    async withAccount(id: string) {
      return (await withAccount(id))[0];
    },
    async tokenByHash(hash: string): Promise<RefreshTokenRow | undefined> {
      return db.selectFrom("refresh_tokens").selectAll().where("token_hash", "=", hash).executeTakeFirst();
    },
    /**
     * Rotation: marks the old token used and stores its successor, but only if the old
     * one was still unused. One conditional UPDATE decides a race: exactly one wins.
     */
    async rotate(oldId: string, next: RefreshTokenRow, sessionExpiresAt: string): Promise<boolean> {
      return db.transaction().execute(async (tx) => {
        const result = await tx
          .updateTable("refresh_tokens")
          .set({ rotated_at: next.created_at })
          .where("id", "=", oldId)
          .where("rotated_at", "is", null)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) !== 1) return false;
        await tx.insertInto("refresh_tokens").values(next).execute();
        await tx
          .updateTable("sessions")
          .set({ refreshed_at: next.created_at, expires_at: sessionExpiresAt })
          .where("id", "=", next.session_id)
          .execute();
        return true;
      });
    },
    /** The user's sessions that still work (not revoked, not expired), newest first. */
    async listLive(userId: string, now: string): Promise<SessionRow[]> {
      return db
        .selectFrom("sessions")
        .selectAll()
        .where("user_id", "=", userId)
        .where("revoked_at", "is", null)
        .where("expires_at", ">", now)
        .orderBy("created_at", "desc")
        .execute();
    },
    async setProved(id: string, at: string): Promise<void> {
      await db.updateTable("sessions").set({ proved_at: at }).where("id", "=", id).execute();
    },
    async revoke(id: string, at: string, reason: string): Promise<boolean> {
      const result = await db
        .updateTable("sessions")
        .set({ revoked_at: at, revoke_reason: reason })
        .where("id", "=", id)
        .where("revoked_at", "is", null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}

export type SessionsRepository = ReturnType<typeof createSessionsRepository>;
