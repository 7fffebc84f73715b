import type { DirectMessageFrame } from "@warren/protocol";
import { fromUtf8 } from "../crypto/encoding.js";
import { DM_VERSION, verifyCopies } from "../crypto/envelope.js";
import { open } from "../crypto/hpke.js";
import type { KeyDirectory } from "./key-directory.js";
import type { DirectMessage } from "./types.js";

/** A dm frame, or a history item (whose from/to are null once an account is deleted). */
export type IncomingMessage = Omit<DirectMessageFrame, "type" | "from" | "to"> & {
  from: string | null;
  to: string | null;
};

/** A message that can never be read by this device: acknowledged and dropped, never retried. */
export class UnreadableMessageError extends Error {
  override name = "UnreadableMessageError";
}

export interface ReceiverContext {
  user: string;
  /** this device's X25519 key id and secret */
  deviceKeyId: string;
  messageKey: Uint8Array;
  directory: KeyDirectory;
  acceptUnverified: boolean;
}

/** aad binds a copy to its sender, recipient and message (/tmp/dm-contract.md "Sealing"). */
export const messageAad = (from: string, to: string, clientMsgId: string) => `${from}\n${to}\n${clientMsgId}`;

/**
 * Checks and opens this device's copy of a message: the copy is for this device's key,
 * the sender's device signed the list of copy hashes and this copy is on it, and the
 * sealed sent_at is the signed one. Throws UnreadableMessageError when the message can
 * never pass; any other error (keys could not be fetched) may pass on a retry.
 */
export async function openDirectMessage(m: IncomingMessage, ctx: ReceiverContext): Promise<DirectMessage> {
  const bad = (why: string) => new UnreadableMessageError(`Direct message ${m.id} dropped: ${why}`);
  const { from, to } = m;
  if (from === null || to === null) throw bad("its sender or recipient deleted their account");
  if (from !== ctx.user && to !== ctx.user) throw bad("it is neither from nor to this user");
  if (m.copy.device_key_id !== ctx.deviceKeyId) throw bad("the copy is for another device key");

  const fields = { sender: from, recipient: to, sent_at: m.sent_at, client_msg_id: m.client_msg_id };
  let verification: DirectMessage["verification"] = "verified";
  let device: string | undefined;
  if (m.signature === null || m.signing_key_id === null) {
    if (!ctx.acceptUnverified) throw bad("it is not signed");
    verification = "unsigned";
  } else {
    const key = await ctx.directory.signingKey(from, m.signing_key_id);
    if (!key) {
      if (!ctx.acceptUnverified) throw bad("its signing key is not a key of the sender");
      verification = "unverified";
    } else if (!(await verifyCopies(key.public_key, fields, m.hashes, m.signature, [m.copy]))) {
      throw bad("its signature does not verify");
    } else {
      device = key.device;
    }
  }

  let plaintext: Uint8Array;
  try {
    plaintext = await open(
      ctx.messageKey,
      m.copy.enc,
      m.copy.ciphertext,
      DM_VERSION,
      messageAad(from, to, m.client_msg_id),
    );
  } catch {
    throw bad("the copy does not open with this device's key");
  }
  let body: unknown;
  try {
    body = JSON.parse(fromUtf8(plaintext));
  } catch {
    throw bad("the plaintext is not JSON");
  }
  const { text, sent_at } = (body ?? {}) as { text?: unknown; sent_at?: unknown };
  if (typeof text !== "string") throw bad("the plaintext has no text");
  if (sent_at !== m.sent_at) throw bad("the sealed sent_at is not the signed one");

  return {
    id: m.id,
    from,
    to,
    text,
    sent_at: m.sent_at,
    client_msg_id: m.client_msg_id,
    verification,
    fromMe: from === ctx.user,
    ...(device === undefined ? {} : { device }),
  };
}
