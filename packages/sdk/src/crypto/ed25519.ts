import { ed25519 } from "@noble/curves/ed25519.js";

const toBase64 = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes));
const fromBase64 = (text: string): Uint8Array => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

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
