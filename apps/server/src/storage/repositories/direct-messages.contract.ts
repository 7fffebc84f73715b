import { uuidv7 } from "@warren/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../create-database.js";
import type { CopyRow, MessageRow } from "./direct-messages.js";
import { createRepositories, type Repositories } from "./index.js";

/**
 * Direct-message storage on every backend: one message per (sender,
 * client_msg_id) whatever races, and copy status only forward, each move reported once.
 */
export function directMessagesContract(
  name: string,
  open: () => Promise<{ database: Database; drop(): Promise<void> }>,
) {
  describe(`direct-message repositories on ${name}`, () => {
    let database: Database;
    let drop: () => Promise<void>;
    let repos: Repositories;
    beforeAll(async () => {
      ({ database, drop } = await open());
      repos = createRepositories(database.db);
    });
    afterAll(async () => {
      await database?.close();
      await drop?.();
    });

    const now = () => new Date().toISOString();
    const user = async (): Promise<string> => {
      const id = uuidv7();
      const username = `dm_${id.slice(-12)}`;
      await repos.users.insert({
        id,
        username,
        username_key: username,
        email: null,
        email_key: null,
        display_name: null,
        password_hash: "h",
        totp_secret: null,
        totp_enabled_at: null,
        totp_last_step: null,
        created_at: now(),
        updated_at: now(),
      });
      return id;
    };
    const message = (sender: string, recipient: string, over: Partial<MessageRow> = {}): MessageRow => ({
      id: uuidv7(),
      sender_id: sender,
      recipient_id: recipient,
      client_msg_id: uuidv7(),
      sent_at: now(),
      received_at: now(),
      signature: null,
      signing_key_id: null,
      verification: "unsigned",
      hashes: "[]",
      ...over,
    });
    const copy = (messageId: string, owner: string, key: string): CopyRow => ({
      message_id: messageId,
      device_key_id: key,
      user_id: owner,
      device: "d",
      enc: "ZQ==",
      ciphertext: "Yw==",
      status: "pending",
      delivered_at: null,
      read_at: null,
      expired_at: null,
    });

    it("stores one message per sender and client_msg_id, even when inserts race", async () => {
      const [a, b] = [await user(), await user()];
      const template = message(a, b);
      const results = await Promise.all(
        [0, 1, 2, 3, 4].map(() => repos.directMessages.insertMessage({ ...template, id: uuidv7() })),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await repos.directMessages.byClientId(a, template.client_msg_id))?.client_msg_id).toBe(
        template.client_msg_id,
      );
      // Another sender may use the same client_msg_id.
      expect(
        await repos.directMessages.insertMessage(message(b, a, { client_msg_id: template.client_msg_id })),
      ).toBe(true);
    });

    it("moves copies only forward and reports each move once, with the sender", async () => {
      const [a, b] = [await user(), await user()];
      const m = message(a, b);
      await repos.directMessages.insertMessage(m);
      const key = uuidv7();
      await repos.directMessages.insertCopies([copy(m.id, b, key)]);
      const race = await Promise.all(
        [1, 2, 3].map(() => repos.directMessages.markDelivered(key, [m.id], now())),
      );
      expect(race.flat()).toEqual([{ message_id: m.id, device_key_id: key, user_id: b, sender_id: a }]);
      expect(await repos.directMessages.markRead(key, [m.id], now())).toHaveLength(1);
      expect(await repos.directMessages.markDelivered(key, [m.id], now())).toEqual([]);
      expect(await repos.directMessages.markRead(key, [m.id], now())).toEqual([]);
      expect(await repos.directMessages.expire("2999-01-01T00:00:00.000Z", now())).not.toContainEqual(
        expect.objectContaining({ message_id: m.id }),
      );
      const [row] = await repos.directMessages.history(key, b, a, 10);
      expect(row?.status).toBe("read");
    });

    it("expires pending copies received before the cutoff, dropping their ciphertext", async () => {
      const [a, b] = [await user(), await user()];
      const old = message(a, b, { received_at: "2000-01-01T00:00:00.000Z" });
      const fresh = message(a, b);
      await repos.directMessages.insertMessage(old);
      await repos.directMessages.insertMessage(fresh);
      // A key that exists: copies for a deleted key expire whatever their age.
      const key = uuidv7();
      await repos.keys.insert({
        id: key,
        user_id: b,
        kind: "x25519",
        public_key: `x${key}`,
        label: null,
        created_at: now(),
        device: "d",
      });
      await repos.directMessages.insertCopies([copy(old.id, b, key), copy(fresh.id, b, key)]);
      const moved = await repos.directMessages.expire("2001-01-01T00:00:00.000Z", now());
      expect(moved.filter((x) => x.device_key_id === key).map((x) => x.message_id)).toEqual([old.id]);
      expect((await repos.directMessages.pending(key, undefined, 10)).map((r) => r.id)).toEqual([fresh.id]);
      const expired = await database.db
        .selectFrom("direct_message_copies")
        .selectAll()
        .where("message_id", "=", old.id)
        .executeTakeFirstOrThrow();
      expect([expired.status, expired.enc, expired.ciphertext]).toEqual(["expired", null, null]);
    });

    it("keeps blocks one way and answers them either way", async () => {
      const [a, b, c] = [await user(), await user(), await user()];
      const first = await repos.blocks.add(a, b, now());
      expect(first.created).toBe(true);
      expect(await repos.blocks.add(a, b, now())).toEqual({ created: false, created_at: first.created_at });
      expect([await repos.blocks.eitherWay(a, b), await repos.blocks.eitherWay(b, a)]).toEqual([true, true]);
      expect(await repos.blocks.eitherWay(a, c)).toBe(false);
      expect((await repos.blocks.list(a)).map((x) => x.user_id)).toEqual([b]);
      expect(await repos.blocks.list(b)).toEqual([]);
      expect(await repos.blocks.remove(a, b)).toBe(true);
      expect(await repos.blocks.remove(a, b)).toBe(false);
    });
  });
}
