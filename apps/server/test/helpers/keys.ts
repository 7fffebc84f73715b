import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";

/** An Ed25519 key pair made with node:crypto; public key as standard base64 of 32 bytes. */
export function ed25519Pair(): { publicKey: string; privateKey: KeyObject; sign(data: Uint8Array): string } {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const x = publicKey.export({ format: "jwk" }).x as string;
  return {
    publicKey: Buffer.from(x, "base64url").toString("base64"),
    privateKey,
    sign: (data) => sign(null, data, privateKey).toString("base64"),
  };
}

export function x25519Public(): string {
  const { publicKey } = generateKeyPairSync("x25519");
  return Buffer.from(publicKey.export({ format: "jwk" }).x as string, "base64url").toString("base64");
}
