import { createPublicKey, type KeyObject, verify } from "node:crypto";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import type { KeyKind } from "@warren/protocol";
import { AppError } from "../errors.js";

/** Decodes a base64 (standard or url-safe) 32-byte key; canonical form is standard base64. */
export function decodeKey(text: string): Buffer {
  const bytes = Buffer.from(text.replaceAll("-", "+").replaceAll("_", "/"), "base64");
  if (bytes.length !== 32)
    throw new AppError("invalid_public_key", "A public key is 32 bytes, base64-encoded");
  return bytes;
}

/**
 * Validates a public key and returns it in canonical base64. Ed25519 keys must be a
 * canonical encoding of a point that is not of small order (RFC 8032 §5.1.3; small-order
 * keys let a signature verify for many messages). X25519 keys must not be low-order
 * points, which would make every shared secret zero (RFC 7748 §6.1).
 */
export function validatePublicKey(kind: KeyKind, text: string): string {
  const bytes = decodeKey(text);
  if (kind === "ed25519") {
    let smallOrder: boolean;
    try {
      smallOrder = ed25519.Point.fromBytes(bytes, false).isSmallOrder();
    } catch {
      throw new AppError("invalid_public_key", "Not a valid Ed25519 public key");
    }
    if (smallOrder) throw new AppError("invalid_public_key", "Ed25519 public key of small order");
  } else {
    try {
      // noble refuses a public key whose shared secret comes out all zero.
      x25519.getSharedSecret(x25519.utils.randomSecretKey(), bytes);
    } catch {
      throw new AppError("invalid_public_key", "X25519 public key of low order");
    }
  }
  return bytes.toString("base64");
}

/**
 * Public keys as node:crypto KeyObjects, by their text: made once per key, since making
 * one from its JWK cost a third of what the verify itself costs, on every direct message.
 * Least recently made dropped first; public, so nothing secret is kept.
 */
const keyObjects = new Map<string, KeyObject>();
const MAX_KEY_OBJECTS = 1024;

function keyObjectOf(publicKey: string): KeyObject {
  let key = keyObjects.get(publicKey);
  if (!key) {
    key = createPublicKey({
      key: { kty: "OKP", crv: "Ed25519", x: decodeKey(publicKey).toString("base64url") },
      format: "jwk",
    });
    if (keyObjects.size >= MAX_KEY_OBJECTS) keyObjects.delete(keyObjects.keys().next().value as string);
    keyObjects.set(publicKey, key);
  }
  return key;
}

/** Checks an Ed25519 signature (base64) over `message` with node:crypto. */
export function verifyEd25519(publicKey: string, message: Uint8Array, signature: string): boolean {
  const sig = Buffer.from(signature.replaceAll("-", "+").replaceAll("_", "/"), "base64");
  if (sig.length !== 64) return false;
  try {
    return verify(null, message, keyObjectOf(publicKey), sig);
  } catch {
    return false;
  }
}
