import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "../../test/helpers/backends.js";
import { createDatabase, type Database } from "../storage/create-database.js";
import { migrate } from "../storage/migrations/index.js";
import type { CopyRow, MessageRow } from "../storage/repositories/direct-messages.js";
import { newUser } from "../storage/repositories/fixtures.js";
import { createMessageStore } from "./dm-store.js";

const at = new Date().toISOString();
let next = 0;

function message(sender: string, clientMsgId: string): MessageRow {
  next += 1;
  return {
    id: `m${String(next).padStart(6, "0")}`,
    sender_id: sender,
    recipient_id: "u2",
    client_msg_id: clientMsgId,
    sent_at: at,
    received_at: at,
    signature: null,
    signing_key_id: null,
    verification: "unsigned",
    hashes: "[]",
  };
}

function copy(m: MessageRow, userId = "u2"): CopyRow {
  return {
    message_id: m.id,
    device_key_id: "k2",
    user_id: userId,
    device: "phone",
    enc: "e",
    ciphertext: "c",
    status: "pending",
    delivered_at: null,
    read_at: null,
    expired_at: null,
  };
}

for (const backend of backends()) {
  describe(`direct messages stored a turn at a time, on ${backend.name}`, () => {
    let database: Database;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      const made = await backend.create();
      database = createDatabase({ databaseUrl: made.databaseUrl, dbPath: made.dbPath });
      drop = made.drop;
      await migrate(database.db);
      await database.db
        .insertInto("users")
        .values([newUser({ id: "u1" }), newUser({ id: "u2" })])
        .execute();
    });
    afterAll(async () => {
      await database.close();
      await drop();
    });

    const stored = async (ids: string[]) => {
      const db = database.db;
      const messages = await db.selectFrom("direct_messages").select("id").where("id", "in", ids).execute();
      const copies = await db
        .selectFrom("direct_message_copies")
        .select("message_id")
        .where("message_id", "in", ids)
        .execute();
      return { messages: messages.map((r) => r.id).sort(), copies: copies.map((r) => r.message_id).sort() };
    };

    it("stores every message sent in one turn, each with its copy, and answers each caller", async () => {
      const store = createMessageStore(database.db);
      const batch = Array.from({ length: 40 }, (_, i) => message("u1", `many-${i}`));
      const answers = await Promise.all(batch.map((m) => store(m, [copy(m)])));
      expect(answers).toEqual(Array(40).fill(true));
      const ids = batch.map((m) => m.id).sort();
      expect(await stored(ids)).toEqual({ messages: ids, copies: ids });
    });

    it("stores one of two messages with the same client id in one turn; the other answers false", async () => {
      const store = createMessageStore(database.db);
      const a = message("u1", "twice");
      const b = message("u1", "twice");
      expect(await Promise.all([store(a, [copy(a)]), store(b, [copy(b)])])).toEqual([true, false]);
      expect(await stored([a.id, b.id])).toEqual({ messages: [a.id], copies: [a.id] });
    });

    it("fails a message that cannot be stored alone: the others of its turn are stored", async () => {
      const store = createMessageStore(database.db);
      const good1 = message("u1", "good-1");
      const bad = message("u1", "bad");
      const good2 = message("u1", "good-2");
      const answers = await Promise.allSettled([
        store(good1, [copy(good1)]),
        // a copy for an account that does not exist: its foreign key fails
        store(bad, [copy(bad, "nobody")]),
        store(good2, [copy(good2)]),
      ]);
      expect(answers.map((a) => a.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      expect(answers[0]).toMatchObject({ value: true });
      expect(answers[2]).toMatchObject({ value: true });
      // the failed message left nothing behind: not its row, not a copy
      expect(await stored([good1.id, bad.id, good2.id])).toEqual({
        messages: [good1.id, good2.id],
        copies: [good1.id, good2.id],
      });
    });

    it("answers a message once it is committed, and one of a later turn as well", async () => {
      const store = createMessageStore(database.db);
      const first = message("u1", "turn-1");
      expect(await store(first, [copy(first)])).toBe(true);
      expect(await stored([first.id])).toEqual({ messages: [first.id], copies: [first.id] });
      const second = message("u1", "turn-2");
      expect(await store(second, [copy(second)])).toBe(true);
      expect(await stored([second.id])).toEqual({ messages: [second.id], copies: [second.id] });
    });
  });
}
