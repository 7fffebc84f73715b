import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateEd25519 } from "./ed25519.js";
import { fromUtf8 } from "./encoding.js";
import {
  type CopyHash,
  copyHash,
  copyHashes,
  DM_VERSION,
  type EnvelopeFields,
  type SealedCopy,
  signEnvelope,
  signedBytes,
  verifyCopies,
  verifyEnvelope,
} from "./envelope.js";
import { generateX25519, seal } from "./hpke.js";

const fields: EnvelopeFields = {
  sender: "0190a1b2-0000-7000-8000-000000000001",
  recipient: "0190a1b2-0000-7000-8000-000000000002",
  sent_at: "2026-01-02T03:04:05.678Z",
  client_msg_id: "m-1",
};

async function copies(n: number): Promise<SealedCopy[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => ({
      device_key_id: `0190a1b2-0000-7000-8000-00000000010${i}`,
      ...(await seal(generateX25519().publicKey, new Uint8Array([i]), DM_VERSION, "aad")),
    })),
  );
}

const flip = (text: string) => (text[0] === "A" ? `B${text.slice(1)}` : `A${text.slice(1)}`);

describe("message envelope", () => {
  it("hashes a copy as base64 of SHA-256 over device_key_id, enc and ciphertext joined by newlines", async () => {
    const copy = { device_key_id: "k1", enc: "ZW5j", ciphertext: "Y3Q=" };
    const expected = createHash("sha256").update("k1\nZW5j\nY3Q=").digest("base64");
    expect(await copyHash(copy)).toBe(expected);
  });

  it("signs the contract's canonical JSON array with hashes sorted by device_key_id", () => {
    const hashes: CopyHash[] = [
      ["b", "hb"],
      ["a", "ha"],
      ["B", "hB"],
    ];
    expect(fromUtf8(signedBytes(fields, hashes))).toBe(
      JSON.stringify([
        "warren-dm-v1",
        fields.sender,
        fields.recipient,
        fields.sent_at,
        fields.client_msg_id,
        [
          ["B", "hB"],
          ["a", "ha"],
          ["b", "hb"],
        ],
      ]),
    );
  });

  it("verifies what it signed, whatever order the copies and hashes come in", async () => {
    const identity = generateEd25519();
    const sealed = await copies(3);
    const { hashes, signature } = await signEnvelope(identity.secretKey, fields, sealed);
    expect(hashes.map(([id]) => id)).toEqual([...hashes.map(([id]) => id)].sort());
    expect(verifyEnvelope(identity.publicKey, fields, hashes, signature)).toBe(true);
    expect(verifyEnvelope(identity.publicKey, fields, [...hashes].reverse(), signature)).toBe(true);
    const reordered = await signEnvelope(identity.secretKey, fields, [...sealed].reverse());
    expect(reordered.signature).toBe(signature);
    expect(await verifyCopies(identity.publicKey, fields, hashes, signature, sealed)).toBe(true);
    // a recipient holds one copy; its entry alone is checked against the signed list
    expect(await verifyCopies(identity.publicKey, fields, hashes, signature, [sealed[1] as SealedCopy])).toBe(
      true,
    );
  });

  it("fails when any signed field changes", async () => {
    const identity = generateEd25519();
    const sealed = await copies(2);
    const { hashes, signature } = await signEnvelope(identity.secretKey, fields, sealed);
    for (const key of Object.keys(fields) as (keyof EnvelopeFields)[]) {
      const changed = { ...fields, [key]: `${fields[key]}x` };
      expect(verifyEnvelope(identity.publicKey, changed, hashes, signature), key).toBe(false);
    }
    // sender and recipient swapped
    const swapped = { ...fields, sender: fields.recipient, recipient: fields.sender };
    expect(verifyEnvelope(identity.publicKey, swapped, hashes, signature)).toBe(false);
    expect(verifyEnvelope(generateEd25519().publicKey, fields, hashes, signature)).toBe(false);
    expect(verifyEnvelope(identity.publicKey, fields, hashes, flip(signature))).toBe(false);
    expect(verifyEnvelope(identity.publicKey, fields, hashes, "not base64!")).toBe(false);
  });

  it("fails when any copy changes, goes missing, is added or is signed twice", async () => {
    const identity = generateEd25519();
    const sealed = await copies(3);
    const { hashes, signature } = await signEnvelope(identity.secretKey, fields, sealed);
    for (const [i, copy] of sealed.entries()) {
      for (const key of ["device_key_id", "enc", "ciphertext"] as const) {
        const changed = { ...copy, [key]: flip(copy[key]) };
        const set = sealed.map((c, j) => (j === i ? changed : c));
        expect(await verifyCopies(identity.publicKey, fields, hashes, signature, set), `${i} ${key}`).toBe(
          false,
        );
        // the hash list recomputed from the changed copies no longer matches the signature
        expect(verifyEnvelope(identity.publicKey, fields, await copyHashes(set), signature)).toBe(false);
      }
    }
    expect(verifyEnvelope(identity.publicKey, fields, hashes.slice(1), signature)).toBe(false);
    const extra = await copies(1);
    const more = await copyHashes([...sealed, ...extra]);
    expect(verifyEnvelope(identity.publicKey, fields, more, signature)).toBe(false);
    expect(await verifyCopies(identity.publicKey, fields, hashes, signature, extra)).toBe(false);
    const doubled: CopyHash[] = [...hashes, hashes[0] as CopyHash];
    expect(await verifyCopies(identity.publicKey, fields, doubled, signature, sealed)).toBe(false);
  });
});
