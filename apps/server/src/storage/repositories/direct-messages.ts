import type { Kysely, Selectable } from "kysely";
import { compiled } from "../compiled.js";
import type { DirectMessageCopiesTable, DirectMessagesTable, Schema } from "../schema.js";

export type MessageRow = Selectable<DirectMessagesTable>;
export type CopyRow = Selectable<DirectMessageCopiesTable>;
/** A copy with its message: what one device is given. */
export type DeliveryRow = MessageRow & Pick<CopyRow, "device_key_id" | "enc" | "ciphertext" | "status">;
/** A copy that moved forward, with whom to tell. */
export interface Moved {
  message_id: string;
  device_key_id: string;
  user_id: string;
  sender_id: string | null;
}

const MESSAGE_COLUMNS = [
  "m.id",
  "m.sender_id",
  "m.recipient_id",
  "m.client_msg_id",
  "m.sent_at",
  "m.received_at",
  "m.signature",
  "m.signing_key_id",
  "m.verification",
  "m.hashes",
] as const;
const COPY_COLUMNS = ["c.device_key_id", "c.enc", "c.ciphertext", "c.status"] as const;

/**
 * Direct messages and their sealed copies. Status only moves forward: every
 * change is one conditional UPDATE naming the states it may leave, so two devices or
 * two instances racing cannot move a copy back or tell its sender twice.
 */
export function createDirectMessagesRepository(db: Kysely<Schema>) {
  /** The senders of these messages, for the copies that moved. */
  const withSenders = async (
    moved: { message_id: string; device_key_id: string; user_id: string }[],
  ): Promise<Moved[]> => {
    if (moved.length === 0) return [];
    const ids = [...new Set(moved.map((m) => m.message_id))];
    const rows = await db
      .selectFrom("direct_messages")
      .select(["id", "sender_id"])
      .where("id", "in", ids)
      .execute();
    const sender = new Map(rows.map((r) => [r.id, r.sender_id]));
    return moved.map((m) => ({ ...m, sender_id: sender.get(m.message_id) ?? null }));
  };

  /**
   * Inserts messages in one statement, each unless its (sender, client_msg_id) is taken
   * (by a stored message or an earlier one of the list); returns the ids it stored.
   */
  const insertMessages = async (rows: MessageRow[]): Promise<Set<string>> => {
    if (rows.length === 0) return new Set();
    const inserted = await db
      .insertInto("direct_messages")
      .values(rows)
      .onConflict((oc) => oc.columns(["sender_id", "client_msg_id"]).doNothing())
      .returning("id")
      .execute();
    return new Set(inserted.map((r) => r.id));
  };
  /** a sender's message by its client id: every send asks, to answer a retry */
  const byClientId = compiled(db, (senderId: string, clientMsgId: string) =>
    db
      .selectFrom("direct_messages")
      .selectAll()
      .where("sender_id", "=", senderId)
      .where("client_msg_id", "=", clientMsgId),
  );
  return {
    /**
     * Inserts the message unless (sender, client_msg_id) is taken; true when this call
     * stored it. The unique constraint decides, so concurrent retries store one.
     */
    async insertMessage(row: MessageRow): Promise<boolean> {
      return (await insertMessages([row])).has(row.id);
    },

    insertMessages,

    async insertCopies(rows: CopyRow[]): Promise<void> {
      if (rows.length > 0) await db.insertInto("direct_message_copies").values(rows).execute();
    },

    async byClientId(senderId: string, clientMsgId: string): Promise<MessageRow | undefined> {
      return (await byClientId(senderId, clientMsgId))[0];
    },

    /** A device key's pending copies after `after` (a message id), oldest first. */
    async pending(deviceKeyId: string, after: string | undefined, limit: number): Promise<DeliveryRow[]> {
      let q = db
        .selectFrom("direct_message_copies as c")
        .innerJoin("direct_messages as m", "m.id", "c.message_id")
        .select([...MESSAGE_COLUMNS, ...COPY_COLUMNS])
        .where("c.device_key_id", "=", deviceKeyId)
        .where("c.status", "=", "pending");
      if (after !== undefined) q = q.where("c.message_id", ">", after);
      return q.orderBy("c.message_id", "asc").limit(limit).execute();
    },

    /** pending → delivered for one key's copies of these messages; returns those that moved. */
    async markDelivered(deviceKeyId: string, ids: string[], at: string): Promise<Moved[]> {
      const moved = await db
        .updateTable("direct_message_copies")
        .set({ status: "delivered", delivered_at: at })
        .where("device_key_id", "=", deviceKeyId)
        .where("message_id", "in", ids)
        .where("status", "=", "pending")
        .returning(["message_id", "device_key_id", "user_id"])
        .execute();
      return withSenders(moved);
    },

    /** pending or delivered → read (delivered too, if it was not yet). */
    async markRead(deviceKeyId: string, ids: string[], at: string): Promise<Moved[]> {
      const moved = await db
        .updateTable("direct_message_copies")
        .set((eb) => ({
          status: "read",
          read_at: at,
          delivered_at: eb.fn.coalesce("delivered_at", eb.val(at)),
        }))
        .where("device_key_id", "=", deviceKeyId)
        .where("message_id", "in", ids)
        .where("status", "in", ["pending", "delivered"])
        .returning(["message_id", "device_key_id", "user_id"])
        .execute();
      return withSenders(moved);
    },

    /**
     * pending → expired for copies received before `cutoff`, and for copies whose key
     * was deleted (no device can ever take them). The ciphertext goes: nobody can be
     * given it any more.
     */
    async expire(cutoff: string, at: string): Promise<Moved[]> {
      const moved = await db
        .updateTable("direct_message_copies")
        .set({ status: "expired", expired_at: at, enc: null, ciphertext: null })
        .where("status", "=", "pending")
        .where((eb) =>
          eb.or([
            eb(
              "message_id",
              "in",
              eb.selectFrom("direct_messages").select("id").where("received_at", "<", cutoff),
            ),
            eb.not(
              eb.exists(
                eb
                  .selectFrom("user_keys")
                  .select("user_keys.id")
                  .whereRef("user_keys.id", "=", "direct_message_copies.device_key_id"),
              ),
            ),
          ]),
        )
        .returning(["message_id", "device_key_id", "user_id"])
        .execute();
      return withSenders(moved);
    },

    /**
     * One key's copies of the conversation between `me` and `other`, newest first,
     * strictly older than `before`; expired copies have nothing left to give.
     */
    async history(
      deviceKeyId: string,
      me: string,
      other: string,
      limit: number,
      before?: string,
    ): Promise<DeliveryRow[]> {
      let q = db
        .selectFrom("direct_message_copies as c")
        .innerJoin("direct_messages as m", "m.id", "c.message_id")
        .select([...MESSAGE_COLUMNS, ...COPY_COLUMNS])
        .where("c.device_key_id", "=", deviceKeyId)
        .where("c.user_id", "=", me)
        .where("c.status", "!=", "expired")
        .where((eb) =>
          eb.or([
            eb.and([eb("m.sender_id", "=", me), eb("m.recipient_id", "=", other)]),
            eb.and([eb("m.sender_id", "=", other), eb("m.recipient_id", "=", me)]),
          ]),
        );
      if (before !== undefined) q = q.where("c.message_id", "<", before);
      return q.orderBy("c.message_id", "desc").limit(limit).execute();
    },

    /** For the export: messages the user sent or received, and the user's own copies of them. */
    async ofUser(userId: string) {
      const [messages, copies] = await Promise.all([
        db
          .selectFrom("direct_messages")
          .select([
            "id",
            "sender_id",
            "recipient_id",
            "client_msg_id",
            "sent_at",
            "received_at",
            "verification",
          ])
          .where((eb) => eb.or([eb("sender_id", "=", userId), eb("recipient_id", "=", userId)]))
          .orderBy("id")
          .execute(),
        db
          .selectFrom("direct_message_copies")
          .select(["message_id", "device_key_id", "device", "status", "delivered_at", "read_at"])
          .where("user_id", "=", userId)
          .orderBy("message_id")
          .orderBy("device_key_id")
          .execute(),
      ]);
      return { messages, copies };
    },

    /**
     * Before an account goes: messages of the user that no one else holds a copy of are
     * deleted (their copies with them). The rest lose only the user's copies, with the
     * user row (ON DELETE CASCADE).
     */
    async forgetUser(userId: string): Promise<void> {
      await db
        .deleteFrom("direct_messages")
        .where((eb) =>
          eb.and([
            eb.or([eb("sender_id", "=", userId), eb("recipient_id", "=", userId)]),
            eb.not(
              eb.exists(
                eb
                  .selectFrom("direct_message_copies as c")
                  .select("c.message_id")
                  .whereRef("c.message_id", "=", "direct_messages.id")
                  .where("c.user_id", "!=", userId),
              ),
            ),
          ]),
        )
        .execute();
    },
  };
}

export type DirectMessagesRepository = ReturnType<typeof createDirectMessagesRepository>;
