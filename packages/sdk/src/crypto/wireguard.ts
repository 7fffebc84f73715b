import { x25519 } from "@noble/curves/ed25519.js";
import { renderWgQuick, type WireGuardConfig } from "@warren/protocol";
import { toBase64 } from "./encoding.js";

export interface WireGuardKeyPair {
  /** base64, as wg(8) prints it; stays on the device that made it */
  privateKey: string;
  /** base64; the only half the server is given */
  publicKey: string;
}

/**
 * A WireGuard key pair made where this code runs (a browser, for a phone's config).
 * WireGuard keys are Curve25519 keys; the secret is clamped as wg genkey does
 * (RFC 7748 section 5), so the file shows the same key `wg pubkey` would derive from.
 */
export function generateWireGuardKeys(): WireGuardKeyPair {
  const secret = x25519.utils.randomSecretKey();
  secret[0] = (secret[0] ?? 0) & 248;
  secret[31] = ((secret[31] ?? 0) & 127) | 64;
  return { privateKey: toBase64(secret), publicKey: toBase64(x25519.getPublicKey(secret)) };
}

/** The wg-quick file of a config (peers.configJson) with this device's private key filled in. */
export function wgQuickFile(config: WireGuardConfig, privateKey: string): string {
  return renderWgQuick(config, privateKey);
}
