import { signEd25519, verifyEd25519 } from "./ed25519.js";
import { toBase64, utf8 } from "./encoding.js";

/**
 * The direct-message envelope (docs/protocol.md, "Direct messages"): the sending
 * device's Ed25519 key signs who, when, which message, and the hash of every sealed
 * copy, so neither the server nor anyone else can swap, drop or alter a copy, or
 * replay copies under another sender, recipient or id, without the signature failing.
 */

/** HPKE info and the first element of the signed array. */
export const DM_VERSION = "warren-dm-v1";

export interface SealedCopy {
  /** the id of the recipient device's X25519 key */
  device_key_id: string;
  enc: string;
  ciphertext: string;
}

/** [device_key_id, hash] */
export type CopyHash = [string, string];

export interface EnvelopeFields {
  sender: string;
  recipient: string;
  /** ISO time on the sender's clock */
  sent_at: string;
  client_msg_id: string;
}

/** base64(SHA-256(UTF-8 of `${device_key_id}\n${enc}\n${ciphertext}`)) */
export async function copyHash(copy: SealedCopy): Promise<string> {
  const text = `${copy.device_key_id}\n${copy.enc}\n${copy.ciphertext}`;
  const digest = await globalThis.crypto.subtle.digest("SHA-256", utf8(text) as Uint8Array<ArrayBuffer>);
  return toBase64(new Uint8Array(digest));
}

/** Sorted by device_key_id in plain string (UTF-16 code unit) order, as the contract says. */
export function sortHashes(hashes: readonly CopyHash[]): CopyHash[] {
  return [...hashes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export async function copyHashes(copies: readonly SealedCopy[]): Promise<CopyHash[]> {
  return sortHashes(
    await Promise.all(copies.map(async (c): Promise<CopyHash> => [c.device_key_id, await copyHash(c)])),
  );
}

/**
 * UTF-8 of JSON.stringify(["warren-dm-v1", sender, recipient, sent_at, client_msg_id,
 * hashes]) with hashes sorted: the one canonical encoding both ends compute.
 */
export function signedBytes(fields: EnvelopeFields, hashes: readonly CopyHash[]): Uint8Array {
  return utf8(
    JSON.stringify([
      DM_VERSION,
      fields.sender,
      fields.recipient,
      fields.sent_at,
      fields.client_msg_id,
      sortHashes(hashes),
    ]),
  );
}

/** Signs the envelope of `copies` with a 32-byte Ed25519 seed (RFC 8032, pure Ed25519). */
export async function signEnvelope(
  secretKey: Uint8Array,
  fields: EnvelopeFields,
  copies: readonly SealedCopy[],
): Promise<{ hashes: CopyHash[]; signature: string }> {
  const hashes = await copyHashes(copies);
  return { hashes, signature: signEd25519(secretKey, signedBytes(fields, hashes)) };
}

/** Whether `signature` (base64) is the base64 Ed25519 `publicKey`'s over these fields and hashes. */
export function verifyEnvelope(
  publicKey: string,
  fields: EnvelopeFields,
  hashes: readonly CopyHash[],
  signature: string,
): boolean {
  return verifyEd25519(publicKey, signedBytes(fields, hashes), signature);
}

/**
 * Verifies a whole message: the signature over `hashes`, and that every copy given
 * hashes to its entry (a recipient has only its own copy; the server may check all).
 */
export async function verifyCopies(
  publicKey: string,
  fields: EnvelopeFields,
  hashes: readonly CopyHash[],
  signature: string,
  copies: readonly SealedCopy[],
): Promise<boolean> {
  if (!verifyEnvelope(publicKey, fields, hashes, signature)) return false;
  const signed = new Map<string, string>();
  for (const [id, hash] of hashes) {
    if (signed.has(id)) return false;
    signed.set(id, hash);
  }
  for (const copy of copies) {
    if (signed.get(copy.device_key_id) !== (await copyHash(copy))) return false;
  }
  return true;
}
