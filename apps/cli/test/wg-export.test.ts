import type { WireGuardConfig } from "@warren/protocol";
import { describe, expect, it } from "vitest";
import { interfaceName, specFromConfig, wgQuickText } from "../src/wg/export.js";

const PRIVATE = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=";
const BOB = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
const CAROL = "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=";

const config: WireGuardConfig = {
  interface: {
    device_id: "0190a1b2-0000-7000-8000-000000000001",
    device_name: "laptop\nPostUp = evil",
    network_id: "0190a1b2-c3d4-7e5f-8a6b-1c2d3e4f5a6b",
    network_name: "home lan",
    cidr: "10.1.0.0/24",
    address: "10.1.0.2/24",
    private_key: null,
  },
  peers: [
    {
      peer_id: "0190a1b2-0000-7000-8000-000000000002",
      name: "desktop",
      public_key: BOB,
      allowed_ips: ["10.1.0.3/32"],
      endpoint: "192.168.7.3:51820",
      persistent_keepalive: 25,
    },
    {
      peer_id: "0190a1b2-0000-7000-8000-000000000003",
      name: "phone",
      public_key: CAROL,
      allowed_ips: ["10.1.0.4/32"],
      endpoint: null,
      persistent_keepalive: 25,
    },
  ],
};

describe("wg-quick export", () => {
  it("fills in the private key; Endpoint only when known; names cannot add lines", () => {
    expect(wgQuickText(config, PRIVATE)).toBe(
      [
        "[Interface]",
        "# Device: laptop PostUp = evil  Network: home lan (10.1.0.0/24)",
        `PrivateKey = ${PRIVATE}`,
        "Address = 10.1.0.2/24",
        "",
        "[Peer]",
        "# desktop",
        `PublicKey = ${BOB}`,
        "AllowedIPs = 10.1.0.3/32",
        "Endpoint = 192.168.7.3:51820",
        "PersistentKeepalive = 25",
        "",
        "[Peer]",
        "# phone",
        `PublicKey = ${CAROL}`,
        "AllowedIPs = 10.1.0.4/32",
        "PersistentKeepalive = 25",
        "",
      ].join("\n"),
    );
  });

  it("refuses something that is not a private key", () => {
    expect(() => wgQuickText(config, "not a key")).toThrow(/32 bytes/);
  });
});

describe("spec for the daemon", () => {
  it("maps the config onto an InterfaceSpec", () => {
    expect(specFromConfig(config, PRIVATE, "wrn1c2d3e4f", 51821)).toEqual({
      name: "wrn1c2d3e4f",
      privateKey: PRIVATE,
      listenPort: 51821,
      address: "10.1.0.2/24",
      cidr: "10.1.0.0/24",
      peers: [
        {
          publicKey: BOB,
          allowedIps: ["10.1.0.3/32"],
          endpoint: "192.168.7.3:51820",
          persistentKeepalive: 25,
        },
        { publicKey: CAROL, allowedIps: ["10.1.0.4/32"], endpoint: null, persistentKeepalive: 25 },
      ],
    });
    expect("listenPort" in specFromConfig(config, PRIVATE, "wrn1c2d3e4f")).toBe(false);
  });
});

describe("interface names", () => {
  it("is the prefix and the id's last 8 hex digits: the first 8 of a UUIDv7 are a clock", () => {
    expect(interfaceName("0190a1b2-c3d4-7e5f-8a6b-1c2d3e4f5a6b")).toBe("wrn3e4f5a6b");
    expect(interfaceName("0190A1B2-C3D4-7E5F-8A6B-1C2D3E4F5A6B", "wg")).toBe("wg3e4f5a6b");
    // Two networks made in the same minute share their first 8 digits but not their names.
    expect(interfaceName("0190a1b2-c3d4-7e5f-8a6b-000000000001")).not.toBe(
      interfaceName("0190a1b2-c3d5-7e5f-8a6b-000000000002"),
    );
    expect(interfaceName("0190a1b2-c3d4-7e5f-8a6b-1c2d3e4f5a6b", "abcdefg")).toHaveLength(15);
  });

  it("refuses a prefix that would not fit or an id that is not hex", () => {
    expect(() => interfaceName("0190a1b2-c3d4-7e5f-8a6b-1c2d3e4f5a6b", "abcdefgh")).toThrow(/1-7/);
    expect(() => interfaceName("0190a1b2-c3d4-7e5f-8a6b-1c2d3e4f5a6b", "w/")).toThrow(/prefix/);
    expect(() => interfaceName("0190a1b2-c3d4-7e5f-8a6b-1c2d3e4f5a6b", "")).toThrow(/prefix/);
    expect(() => interfaceName("net-one")).toThrow(/not a network id/);
  });
});
