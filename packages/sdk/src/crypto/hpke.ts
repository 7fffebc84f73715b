import { Aes256Gcm, CipherSuite, HkdfSha256 } from "@hpke/core";
import { DhkemX25519HkdfSha256 } from "@hpke/dhkem-x25519";
import { x25519 } from "@noble/curves/ed25519.js";
import { fromBase64, toBase64, utf8 } from "./encoding.js";

/**
 * HPKE (RFC 9180) in base mode with the suite DESIGN.md names: DHKEM(X25519,
 * HKDF-SHA256) 0x0020, HKDF-SHA256 0x0001, AES-256-GCM 0x0002. The KEM is
 * @hpke/dhkem-x25519 (@noble/curves underneath) so it runs where WebCrypto has no
 * X25519; HKDF and AES-GCM are WebCrypto's, which every browser and Node 20 has.
 */
export const hpkeSuite = new CipherSuite({
  kem: new DhkemX25519HkdfSha256(),
  kdf: new HkdfSha256(),
  aead: new Aes256Gcm(),
});

export interface X25519KeyPair {
  /** 32 raw bytes; never leaves the device */
  secretKey: Uint8Array;
  /** 32 raw bytes, standard base64, as POST /v1/auth/keys takes it */
  publicKey: string;
}

/** A message key pair made on this device. */
export function generateX25519(): X25519KeyPair {
  return x25519FromSecret(x25519.utils.randomSecretKey());
}

/** The key pair of a stored 32-byte X25519 secret. */
export function x25519FromSecret(secretKey: Uint8Array): X25519KeyPair {
  if (secretKey.length !== 32) throw new Error("An X25519 secret key is 32 bytes");
  return { secretKey, publicKey: toBase64(x25519.getPublicKey(secretKey)) };
}

/** info and aad are bytes or text (taken as UTF-8). */
export type Bytes = Uint8Array | string;
const bytes = (value: Bytes): Uint8Array => (typeof value === "string" ? utf8(value) : value);

export interface Sealed {
  /** the encapsulated key (the ephemeral public key), standard base64 */
  enc: string;
  /** AES-256-GCM ciphertext with its 16-byte tag, standard base64 */
  ciphertext: string;
}

/** Single-shot seal (RFC 9180 section 6.1) to a base64 X25519 public key. */
export async function seal(
  recipientPublicKey: string,
  plaintext: Uint8Array,
  info: Bytes,
  aad: Bytes,
): Promise<Sealed> {
  const recipient = await hpkeSuite.kem.deserializePublicKey(fromBase64(recipientPublicKey));
  const { enc, ct } = await hpkeSuite.seal(
    { recipientPublicKey: recipient, info: bytes(info) },
    plaintext,
    bytes(aad),
  );
  return { enc: toBase64(new Uint8Array(enc)), ciphertext: toBase64(new Uint8Array(ct)) };
}

/** Single-shot open; rejects (OpenError) when any input differs from what was sealed. */
export async function open(
  recipientSecretKey: Uint8Array,
  enc: string,
  ciphertext: string,
  info: Bytes,
  aad: Bytes,
): Promise<Uint8Array> {
  const recipientKey = await hpkeSuite.kem.deserializePrivateKey(recipientSecretKey);
  const plaintext = await hpkeSuite.open(
    { recipientKey, enc: fromBase64(enc), info: bytes(info) },
    fromBase64(ciphertext),
    bytes(aad),
  );
  return new Uint8Array(plaintext);
}
