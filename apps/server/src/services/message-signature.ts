import { createHash } from "node:crypto";

/**
 * The domain separation tag of direct-message signatures and HPKE info (docs/protocol.md
 * "Direct messages").
 */
export const DM_CONTEXT = "warren-dm-v1";

export interface SealedCopy {
  device_key_id: string;
  enc: string;
  ciphertext: string;
}

/** base64(SHA-256(UTF-8 of `${device_key_id}\n${enc}\n${ciphertext}`)), as the contract defines it. */
export function copyHash(copy: SealedCopy): string {
  return createHash("sha256")
    .update(`${copy.device_key_id}\n${copy.enc}\n${copy.ciphertext}`, "utf8")
    .digest("base64");
}

/** [device_key_id, hash] of every copy, sorted by device_key_id (plain string order). */
export function hashesOf(copies: SealedCopy[]): [string, string][] {
  return copies
    .map((c): [string, string] => [c.device_key_id, copyHash(c)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/**
 * The bytes the sending device signs: UTF-8 of JSON.stringify of
 * ["warren-dm-v1", sender, recipient, sent_at, client_msg_id, hashes]. Every recipient
 * device can check it with its own copy and the hashes of the others.
 */
export function signedBytes(m: {
  sender: string;
  recipient: string;
  sentAt: string;
  clientMsgId: string;
  hashes: [string, string][];
}): Buffer {
  return Buffer.from(
    JSON.stringify([DM_CONTEXT, m.sender, m.recipient, m.sentAt, m.clientMsgId, m.hashes]),
    "utf8",
  );
}
