import {
  type DeviceKey,
  type DirectHistoryQuery,
  type DirectMessage,
  type DirectMessageAccepted,
  type DirectMessageFrame,
  type DirectMessageStatusFrame,
  DM_CLOCK_SKEW_MS,
  DM_PAGE_DEFAULT,
  type SendDirectMessageBody,
  type StaleDeviceKeysDetails,
  uuidv7,
} from "@warren/protocol";
import type { Kysely } from "kysely";
import type { Bus } from "../bus/bus.js";
import { topics } from "../bus/topics.js";
import type { MessagesConfig } from "../config.js";
import { AppError } from "../errors.js";
import { mayContact } from "../policy/policy.js";
import type { SharedState } from "../state/index.js";
import type { DeliveryRow, MessageRow, Moved } from "../storage/repositories/direct-messages.js";
import type { Repositories } from "../storage/repositories/index.js";
import type { KeyRow } from "../storage/repositories/keys.js";
import type { Schema } from "../storage/schema.js";
import { nowIso } from "./context.js";
import { createMessageStore } from "./dm-store.js";
import { hashesOf, signedBytes } from "./message-signature.js";
import { verifyEd25519 } from "./public-keys.js";
import type { Scopes } from "./scopes.js";

export interface DirectMessagesDeps {
  db: Kysely<Schema>;
  repos: Pick<Repositories, "directMessages" | "keys" | "blocks">;
  bus: Bus;
  state: SharedState;
  scopes: Scopes;
  config: MessagesConfig;
}

/** The dm frame for one copy (history adds the copy's status). */
export function toDmFrame(row: DeliveryRow): DirectMessageFrame {
  return {
    type: "dm",
    id: row.id,
    from: row.sender_id,
    to: row.recipient_id,
    sent_at: row.sent_at,
    client_msg_id: row.client_msg_id,
    signature: row.signature,
    signing_key_id: row.signing_key_id,
    verification: row.verification,
    hashes: JSON.parse(row.hashes) as [string, string][],
    copy: { device_key_id: row.device_key_id, enc: row.enc ?? "", ciphertext: row.ciphertext ?? "" },
  };
}

const accepted = (m: MessageRow): DirectMessageAccepted => ({
  id: m.id,
  client_msg_id: m.client_msg_id,
  sent_at: m.sent_at,
});

const deviceKey = (k: KeyRow): DeviceKey => ({ id: k.id, device: k.device ?? "", public_key: k.public_key });

/**
 * End-to-end encrypted direct messages: the server checks who may write to
 * whom and the signature over the sealed copies, stores the copies, and forwards them
 * to the devices holding their keys. It never sees plaintext. A message is committed
 * before it is acknowledged or delivered (DESIGN.md principle 3).
 */
export function createDirectMessages({ db, repos, bus, state, scopes, config }: DirectMessagesDeps) {
  const store = createMessageStore(db);
  const publish = (topic: string, frame: { type: string }) =>
    bus.publish(topic, { kind: "frame", frame: JSON.stringify(frame), type: frame.type });

  /** Tells senders their recipients' copies moved forward (their own devices' copies are not news). */
  const tell = async (moved: Moved[], status: DirectMessageStatusFrame["status"], at: string) => {
    for (const m of moved) {
      if (m.sender_id === null || m.sender_id === m.user_id) continue;
      const frame: DirectMessageStatusFrame = {
        type: "dm.status",
        id: m.message_id,
        device_key_id: m.device_key_id,
        status,
        at,
      };
      await publish(topics.user(m.sender_id), frame);
    }
  };

  /** Same user, or a shared room, community or network; and no block either way. */
  const mayWrite = async (sender: string, recipient: string): Promise<boolean> => {
    if (sender === recipient) return mayContact({ sameUser: true, shareRoom: false });
    if (await repos.blocks.eitherWay(sender, recipient)) return false;
    // Redis away: the database's community and network facts still decide;
    // only a pair that shares nothing but a room has to wait for it.
    const shareRoom = await Promise.resolve(state.rooms.shareRoom(sender, recipient)).catch(
      (err: unknown) => err as Error,
    );
    if (shareRoom === true) return true;
    const facts = await scopes.shared(sender, recipient);
    if (mayContact({ sameUser: false, shareRoom: false, ...facts })) return true;
    if (shareRoom instanceof Error) throw shareRoom;
    return false;
  };

  /** The signature state, in the contract's order; throws when the configuration refuses it. */
  const verification = async (
    sender: string,
    body: SendDirectMessageBody,
    hashes: [string, string][],
  ): Promise<MessageRow["verification"]> => {
    if (body.signature === undefined) {
      if (config.allowUnsigned) return "unsigned";
      throw new AppError("unsigned_message");
    }
    const key = body.signing_key_id === undefined ? undefined : await repos.keys.byId(body.signing_key_id);
    if (key?.kind !== "ed25519" || key.user_id !== sender) {
      if (config.allowUnverified) return "unverified";
      throw new AppError("unverified_signature");
    }
    const bytes = signedBytes({
      sender,
      recipient: body.to,
      sentAt: body.sent_at,
      clientMsgId: body.client_msg_id,
      hashes,
    });
    if (!verifyEd25519(key.public_key, bytes, body.signature)) {
      throw new AppError("invalid_signature", "The message signature does not verify");
    }
    return "verified";
  };

  /** Every copy for a current device key of either party; every recipient key covered. */
  const checkCopies = async (sender: string, body: SendDirectMessageBody): Promise<Map<string, KeyRow>> => {
    const keys = await repos.keys.messageKeys(sender, body.to);
    const byId = new Map(keys.map((k) => [k.id, k]));
    const given = new Set(body.copies.map((c) => c.device_key_id));
    const recipientKeys = keys.filter((k) => k.user_id === body.to);
    const stale =
      recipientKeys.length === 0 ||
      body.copies.some((c) => !byId.has(c.device_key_id)) ||
      recipientKeys.some((k) => !given.has(k.id));
    if (stale) {
      const details: StaleDeviceKeysDetails = {
        recipient_keys: recipientKeys.map(deviceKey),
        sender_keys: keys.filter((k) => k.user_id === sender).map(deviceKey),
      };
      throw new AppError(
        "stale_device_keys",
        recipientKeys.length === 0 ? "The recipient has no device to receive messages" : undefined,
        { details },
      );
    }
    return byId;
  };

  const checkClock = (sentAt: string): void => {
    const skew = Math.abs(Date.parse(sentAt) - Date.now());
    if (!(skew <= DM_CLOCK_SKEW_MS)) {
      throw new AppError("invalid_request", "sent_at is more than 5 minutes from the server's clock", {
        details: { field: "sent_at", server_time: nowIso() },
      });
    }
  };

  return {
    /**
     * Stores a message and forwards its copies. `except` is the sending socket, which
     * gets the reply instead. A retry of a stored client_msg_id answers the stored
     * message with duplicate: true and stores and sends nothing.
     */
    async send(
      sender: string,
      body: SendDirectMessageBody,
      except?: string,
    ): Promise<DirectMessageAccepted & { duplicate: boolean }> {
      if (!(await mayWrite(sender, body.to))) throw new AppError("peer_unavailable");
      const ids = new Set(body.copies.map((c) => c.device_key_id));
      if (ids.size !== body.copies.length) {
        throw new AppError("invalid_request", "Each device_key_id may have one copy", {
          details: { field: "copies" },
        });
      }
      const hashes = hashesOf(body.copies);
      const verified = await verification(sender, body, hashes);
      const keys = await checkCopies(sender, body);
      const existing = await repos.directMessages.byClientId(sender, body.client_msg_id);
      if (existing) return { ...accepted(existing), duplicate: true };
      // Checked for new messages only: a retry of a stored one may come much later.
      checkClock(body.sent_at);

      const message: MessageRow = {
        id: uuidv7(),
        sender_id: sender,
        recipient_id: body.to,
        client_msg_id: body.client_msg_id,
        sent_at: body.sent_at,
        received_at: nowIso(),
        signature: body.signature ?? null,
        signing_key_id: body.signing_key_id ?? null,
        verification: verified,
        hashes: JSON.stringify(hashes),
      };
      const copies = body.copies.map((c) => {
        const key = keys.get(c.device_key_id) as KeyRow;
        return {
          message_id: message.id,
          device_key_id: c.device_key_id,
          user_id: key.user_id,
          device: key.device ?? "",
          enc: c.enc,
          ciphertext: c.ciphertext,
          status: "pending" as const,
          delivered_at: null,
          read_at: null,
          expired_at: null,
        };
      });
      const stored = await store(message, copies);
      if (!stored) {
        // A concurrent retry won the unique constraint: answer with its message.
        const winner = await repos.directMessages.byClientId(sender, body.client_msg_id);
        if (!winner) throw new Error("direct message vanished after a conflict");
        return { ...accepted(winner), duplicate: true };
      }
      for (const copy of copies) {
        const frame = JSON.stringify(toDmFrame({ ...message, ...copy }));
        await bus.publish(topics.device(copy.user_id, copy.device), {
          kind: "frame",
          frame,
          type: "dm",
          ...(except === undefined ? {} : { except }),
        });
      }
      return { ...accepted(message), duplicate: false };
    },

    /** The device's message key (x25519), if it registered one. */
    keyOf: (userId: string, device: string) => repos.keys.ofDevice(userId, device, "x25519"),

    /** Pending copies for a key after `after`, oldest first: `limit` of them, and whether more wait. */
    async pending(keyId: string, after: string | undefined, limit: number) {
      const rows = await repos.directMessages.pending(keyId, after, limit + 1);
      return { frames: rows.slice(0, limit).map(toDmFrame), more: rows.length > limit };
    },

    /** dm.ack: this device's copies of these messages are delivered. Returns how many moved. */
    async acknowledge(userId: string, device: string, ids: string[]): Promise<number> {
      const key = await repos.keys.ofDevice(userId, device, "x25519");
      if (!key) return 0;
      const at = nowIso();
      const moved = await repos.directMessages.markDelivered(key.id, ids, at);
      await tell(moved, "delivered", at);
      return moved.length;
    },

    /** dm.read: this device's copies of these messages are read (and so delivered). */
    async read(userId: string, device: string, ids: string[]): Promise<number> {
      const key = await repos.keys.ofDevice(userId, device, "x25519");
      if (!key) return 0;
      const at = nowIso();
      const moved = await repos.directMessages.markRead(key.id, ids, at);
      await tell(moved, "read", at);
      return moved.length;
    },

    /** My key's copies of my conversation with another user, newest first. */
    async history(
      userId: string,
      query: DirectHistoryQuery,
    ): Promise<{ messages: DirectMessage[]; next_cursor: string | null }> {
      const key = await repos.keys.byId(query.device_key_id);
      // Another account's key answers exactly like a missing one.
      if (!key || key.user_id !== userId || key.kind !== "x25519") {
        throw new AppError("not_found", "No such device key of yours");
      }
      const limit = query.limit ?? DM_PAGE_DEFAULT;
      const rows = await repos.directMessages.history(key.id, userId, query.with, limit + 1, query.before);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        messages: page.map((row) => {
          const { type: _, ...frame } = toDmFrame(row);
          return { ...frame, status: row.status };
        }),
        next_cursor: rows.length > limit && last ? last.id : null,
      };
    },

    /**
     * The cleanup loop's part: pending copies older than MESSAGE_TTL_DAYS (or whose key
     * is gone) expire, and their senders hear dm.status expired. Returns how many.
     */
    async expire(now: number = Date.now()): Promise<number> {
      const at = nowIso(now);
      const cutoff = new Date(now - config.ttlMs).toISOString();
      const moved = await repos.directMessages.expire(cutoff, at);
      await tell(moved, "expired", at);
      return moved.length;
    },
  };
}

export type DirectMessages = ReturnType<typeof createDirectMessages>;
