import { generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AppError } from "../errors.js";
import { validatePublicKey, verifyEd25519 } from "./public-keys.js";

const hex = (h: string) => Buffer.from(h, "hex");
const b64 = (h: string) => hex(h).toString("base64");

// RFC 8032 §7.1, TEST 2: public key, message 0x72, signature.
const RFC8032 = {
  publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
  message: "72",
  signature:
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
};

describe("public keys", () => {
  it("verifies the RFC 8032 test vector and rejects a changed message or signature", () => {
    expect(verifyEd25519(b64(RFC8032.publicKey), hex(RFC8032.message), b64(RFC8032.signature))).toBe(true);
    expect(verifyEd25519(b64(RFC8032.publicKey), hex("73"), b64(RFC8032.signature))).toBe(false);
    const bad = hex(RFC8032.signature);
    bad[0] = (bad[0] ?? 0) ^ 1;
    expect(verifyEd25519(b64(RFC8032.publicKey), hex(RFC8032.message), bad.toString("base64"))).toBe(false);
    expect(verifyEd25519(b64(RFC8032.publicKey), hex(RFC8032.message), "AAAA")).toBe(false);
  });

  it("verifies each signature with its own key only, over more keys than are kept made", () => {
    const signers = Array.from({ length: 1100 }, () => {
      const { publicKey, privateKey } = generateKeyPairSync("ed25519");
      const raw = (publicKey.export({ format: "jwk" }).x as string) ?? "";
      return { publicKey: Buffer.from(raw, "base64url").toString("base64"), privateKey };
    });
    const message = Buffer.from("hello");
    const signatures = signers.map((s) => sign(null, message, s.privateKey).toString("base64"));
    for (let round = 0; round < 2; round++) {
      signers.forEach((s, i) => {
        expect(verifyEd25519(s.publicKey, message, signatures[i] as string)).toBe(true);
        expect(verifyEd25519(s.publicKey, message, signatures[(i + 1) % signers.length] as string)).toBe(
          false,
        );
      });
    }
    // The same key in url-safe base64, and a key that is not 32 bytes.
    const first = signers[0] as (typeof signers)[number];
    const urlSafe = Buffer.from(first.publicKey, "base64").toString("base64url");
    expect(verifyEd25519(urlSafe, message, signatures[0] as string)).toBe(true);
    expect(verifyEd25519("AAAA", message, signatures[0] as string)).toBe(false);
  });

  it("accepts a valid Ed25519 key in standard or url-safe base64 and returns standard base64", () => {
    const key = hex(RFC8032.publicKey);
    expect(validatePublicKey("ed25519", key.toString("base64url"))).toBe(key.toString("base64"));
  });

  it.each([
    ["identity (order 1)", `01${"00".repeat(31)}`],
    ["order 2", `ec${"ff".repeat(30)}7f`],
    ["order 4", "0".repeat(64)],
    ["order 8", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"],
    ["non-canonical y", "ff".repeat(32)],
  ])("rejects an Ed25519 %s key", (_, key) => {
    expect(() => validatePublicKey("ed25519", b64(key))).toThrow(AppError);
  });

  it.each([
    ["zero", "00".repeat(32)],
    ["one", `01${"00".repeat(31)}`],
    ["order 8", "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"],
  ])("rejects an X25519 low-order %s key", (_, key) => {
    expect(() => validatePublicKey("x25519", b64(key))).toThrow(/low order/);
  });

  it("rejects keys that are not 32 bytes", () => {
    expect(() => validatePublicKey("x25519", Buffer.alloc(31).toString("base64"))).toThrow(/32 bytes/);
  });
});
