import { x25519 } from "@noble/curves/ed25519.js";
import { describe, expect, it } from "vitest";
import { fromBase64, toBase64 } from "./encoding.js";
import { generateWireGuardKeys, wgQuickFile } from "./wireguard.js";

describe("generateWireGuardKeys", () => {
  it("makes a clamped Curve25519 secret whose public key matches", () => {
    const keys = generateWireGuardKeys();
    const secret = fromBase64(keys.privateKey);
    expect(secret).toHaveLength(32);
    expect((secret[0] ?? 0) & 7).toBe(0);
    expect((secret[31] ?? 0) & 128).toBe(0);
    expect((secret[31] ?? 0) & 64).toBe(64);
    expect(keys.publicKey).toBe(toBase64(x25519.getPublicKey(secret)));
    expect(generateWireGuardKeys().privateKey).not.toBe(keys.privateKey);
  });

  it("fills the private key into the wg-quick file", () => {
    const keys = generateWireGuardKeys();
    const text = wgQuickFile(
      {
        interface: {
          device_name: "phone",
          network_name: "lan",
          cidr: "10.1.0.0/24",
          address: "10.1.0.2/24",
          private_key: null,
          public_key: keys.publicKey,
          listen_port: null,
        },
        peers: [],
      } as never,
      keys.privateKey,
    );
    expect(text).toContain(`PrivateKey = ${keys.privateKey}`);
    expect(text).toContain("Address = 10.1.0.2/24");
  });
});
