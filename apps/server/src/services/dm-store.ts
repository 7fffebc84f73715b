import type { Kysely } from "kysely";
import { isUnavailable } from "../storage/errors.js";
import {
  type CopyRow,
  createDirectMessagesRepository,
  type MessageRow,
} from "../storage/repositories/direct-messages.js";
import type { Schema } from "../storage/schema.js";

/** Messages per transaction (10 values each: well within both databases' limits per statement). */
const MESSAGES_PER_BATCH = 200;
/** Copies per insert statement (10 values each). */
const COPIES_PER_STATEMENT = 500;

interface Pending {
  message: MessageRow;
  copies: CopyRow[];
  resolve(stored: boolean): void;
  reject(err: unknown): void;
}

/**
 * Stores direct messages with their copies, the messages of one turn of the event loop
 * in one transaction (group commit): a commit, with its write of every changed page to
 * the WAL, was the largest single cost of a message on SQLite. Each caller's promise
 * settles once its message is committed (true) or was there already under its
 * (sender, client_msg_id) (false), never before. A batch that fails is stored again
 * one message per transaction, so one bad message (an account deleted meanwhile, its
 * keys gone) fails alone; a database that is away fails them all with its error.
 */
export function createMessageStore(db: Kysely<Schema>) {
  let queue: Pending[] = [];

  const store = async (items: Pending[]): Promise<boolean[]> =>
    db.transaction().execute(async (tx) => {
      // Only the repository the transaction needs: making all of them cost more than the inserts.
      const r = createDirectMessagesRepository(tx);
      // Two statements for the turn, whatever its size: on PostgreSQL every statement is
      // a round trip, and the turn's messages share one connection.
      const stored = await r.insertMessages(items.map((item) => item.message));
      const copies = items.flatMap((item) => (stored.has(item.message.id) ? item.copies : []));
      for (let at = 0; at < copies.length; at += COPIES_PER_STATEMENT)
        await r.insertCopies(copies.slice(at, at + COPIES_PER_STATEMENT));
      return items.map((item) => stored.has(item.message.id));
    });

  const run = async (items: Pending[]): Promise<void> => {
    try {
      const stored = await store(items);
      for (let i = 0; i < items.length; i++) (items[i] as Pending).resolve(stored[i] === true);
    } catch (err) {
      // A database that is away fails every message alike, at once: no retries one by one.
      if (items.length === 1 || isUnavailable(err)) {
        for (const item of items) item.reject(err);
        return;
      }
      for (const item of items) await run([item]);
    }
  };

  return (message: MessageRow, copies: CopyRow[]): Promise<boolean> =>
    new Promise<boolean>((resolve, reject) => {
      queue.push({ message, copies, resolve, reject });
      if (queue.length > 1) return;
      setImmediate(() => {
        const items = queue;
        queue = [];
        for (let at = 0; at < items.length; at += MESSAGES_PER_BATCH)
          void run(items.slice(at, at + MESSAGES_PER_BATCH));
      });
    });
}
