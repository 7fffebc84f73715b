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
const toUrl = (b64: string) => Buffer.from(b64, "base64").toString("base64url");

export function generateWireGuardKeys(): WireGuardKeyPair {
  const { privateKey } = generateKeyPairSync("x25519");
  const jwk = privateKey.export({ format: "jwk" });
  return { privateKey: fromUrl(jwk.d as string), publicKey: fromUrl(jwk.x as string) };
}

/** The public key of a base64 private key, as `wg pubkey` computes it. */
export function wireGuardPublicKey(privateKey: string): string {
  const raw = Buffer.from(privateKey, "base64");
  if (raw.length !== 32) throw new Error("a WireGuard private key is 32 bytes of base64");
  const key = createPrivateKey({
    key: { kty: "OKP", crv: "X25519", d: toUrl(privateKey), x: "" },
    format: "jwk",
  });
  return fromUrl(createPublicKey(key).export({ format: "jwk" }).x as string);
}
