import { ed25519 } from "@noble/curves/ed25519.js";
import { fromBase64, toBase64 } from "./encoding.js";

export interface Ed25519KeyPair {
  /** 32-byte seed; never leaves the device */
  secretKey: Uint8Array;
  /** 32-byte public key, base64 as the server expects */
  publicKey: string;
}

/** Makes an identity key pair on this device (browser or Node). */
export function generateEd25519(): Ed25519KeyPair {
  const secretKey = ed25519.utils.randomSecretKey();
  return { secretKey, publicKey: toBase64(ed25519.getPublicKey(secretKey)) };
}

export function ed25519FromSecret(secretKey: Uint8Array): Ed25519KeyPair {
  return { secretKey, publicKey: toBase64(ed25519.getPublicKey(secretKey)) };
}

/** Signs a base64 challenge's bytes (POST /v1/auth/verify). */
export function signChallenge(secretKey: Uint8Array, challenge: string): string {
  return toBase64(ed25519.sign(fromBase64(challenge), secretKey));
}

/** Pure Ed25519 (RFC 8032 section 5.1) over `message`; the signature as standard base64. */
export function signEd25519(secretKey: Uint8Array, message: Uint8Array): string {
  return toBase64(ed25519.sign(message, secretKey));
}

/**
 * RFC 8032 verification with its strict decoding (zip215: false: non-canonical points and
 * S >= L refused), as the server's node:crypto does. A malformed key or signature is false.
 */
export function verifyEd25519(publicKey: string, message: Uint8Array, signature: string): boolean {
  try {
    return ed25519.verify(fromBase64(signature), message, fromBase64(publicKey), { zip215: false });
  } catch {
    return false;
  }
}
