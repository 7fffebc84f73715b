import { createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";

/**
 * WireGuard keys (Curve25519), made here on the device with node:crypto, in the
 * base64 form `wg genkey` / `wg pubkey` print. The private key never leaves the device.
 */
export interface WireGuardKeyPair {
  privateKey: string;
  publicKey: string;
}

const fromUrl = (b64url: string) => Buffer.from(b64url, "base64url").toString("base64");
// PKCS#8 (RFC 8410) wrapping of a raw X25519 private key: what precedes its 32 bytes.
const X25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");

export function generateWireGuardKeys(): WireGuardKeyPair {
  const { privateKey } = generateKeyPairSync("x25519");
  const jwk = privateKey.export({ format: "jwk" });
  return { privateKey: fromUrl(jwk.d as string), publicKey: fromUrl(jwk.x as string) };
}

/** The public key of a base64 private key, as `wg pubkey` computes it. */
export function wireGuardPublicKey(privateKey: string): string {
  const raw = Buffer.from(privateKey, "base64");
  if (raw.length !== 32) throw new Error("a WireGuard private key is 32 bytes of base64");
  // Imported as PKCS#8, not as a JWK: a JWK must carry its public half (x), and Node.js
  // 24 refuses one whose x is missing or wrong, which is what is being computed here.
  const key = createPrivateKey({
    key: Buffer.concat([X25519_PKCS8_PREFIX, raw]),
    format: "der",
    type: "pkcs8",
  });
  return fromUrl(createPublicKey(key).export({ format: "jwk" }).x as string);
}
