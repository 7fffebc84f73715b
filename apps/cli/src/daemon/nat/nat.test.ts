import { describe, expect, it } from "vitest";
import { decodeCheck, encodeCheck, isCheck, PING, PONG } from "./checks.js";
import { sameSubnet } from "./local-addresses.js";
import { validCandidates } from "./paths.js";
import { directReason, type NatType, relayReason } from "./reasons.js";
import { trustedRelayUrl } from "./relay-client.js";
import { bindingRequest, isStun, parseBindingResponse } from "./stun-client.js";

describe("STUN client", () => {
  it("pads its Binding request with SOFTWARE so the server may answer (no amplification)", () => {
    const { id, packet } = bindingRequest();
    expect(packet.length).toBeGreaterThanOrEqual(32);
    expect(packet.readUInt16BE(0)).toBe(0x0001);
    expect(packet.readUInt16BE(2)).toBe(packet.length - 20);
    expect(packet.subarray(8, 20).equals(id)).toBe(true);
    expect(isStun(packet)).toBe(true);
  });

  it("reads XOR-MAPPED-ADDRESS (RFC 8489 §14.2)", () => {
    const r = Buffer.alloc(32);
    r.writeUInt16BE(0x0101, 0);
    r.writeUInt16BE(12, 2);
    r.writeUInt32BE(0x2112a442, 4);
    r.fill(9, 8, 20);
    r.writeUInt16BE(0x0020, 20);
    r.writeUInt16BE(8, 22);
    r.writeUInt8(1, 25);
    r.writeUInt16BE(51820 ^ 0x2112, 26);
    r.writeUInt32BE((((203 << 24) | (0 << 16) | (113 << 8) | 7) ^ 0x2112a442) >>> 0, 28);
    expect(parseBindingResponse(r)).toEqual({ id: "09".repeat(12), address: "203.0.113.7", port: 51820 });
    expect(parseBindingResponse(Buffer.from("not stun at all, not stun at all"))).toBeUndefined();
  });
});

describe("check packets", () => {
  it("round-trip, and are told apart from WireGuard and STUN", () => {
    const c = { kind: PING, txid: "0011223344556677", key: "k3y", device: "0190a4c3-dev" };
    const b = encodeCheck(c);
    expect(isCheck(b)).toBe(true);
    expect(decodeCheck(b)).toEqual(c);
    expect(decodeCheck(encodeCheck({ ...c, kind: PONG }))?.kind).toBe(PONG);
    const wg = Buffer.alloc(148);
    wg[0] = 1;
    expect(isCheck(wg)).toBe(false);
    expect(isStun(b)).toBe(false);
    expect(decodeCheck(b.subarray(0, b.length - 1))).toBeUndefined();
  });
});

describe("reasons", () => {
  it("say why a pair is direct", () => {
    expect(directReason({ type: "host", sameLan: true, myNat: "cone", peerNat: "cone" })).toBe(
      "direct: same LAN",
    );
    expect(directReason({ type: "fixed", sameLan: false, myNat: "symmetric", peerNat: "cone" })).toBe(
      "direct: fixed endpoint",
    );
    expect(directReason({ type: "srflx", sameLan: false, myNat: "cone", peerNat: "none" })).toBe(
      "direct: peer has a public address",
    );
    expect(directReason({ type: "prflx", sameLan: false, myNat: "none", peerNat: "symmetric" })).toBe(
      "direct: this device has a public address",
    );
    expect(directReason({ type: "srflx", sameLan: false, myNat: "cone", peerNat: "cone" })).toBe(
      "direct: hole punched",
    );
  });

  it("say why a pair is relayed", () => {
    const r = (myNat: NatType, peerNat: NatType | undefined, heardFromPeer = true) =>
      relayReason({ myNat, peerNat, heardFromPeer });
    expect(r("udp-blocked", "cone")).toBe("relay: UDP blocked here");
    expect(r("cone", "udp-blocked")).toBe("relay: UDP blocked at peer");
    expect(r("symmetric", "symmetric")).toBe("relay: both sides symmetric NAT");
    expect(r("symmetric", "cone")).toBe("relay: symmetric NAT here");
    expect(r("cone", "symmetric")).toBe("relay: symmetric NAT at peer");
    expect(r("cone", undefined, false)).toBe("relay: peer offline from direct checks");
    expect(r("cone", "cone")).toBe("relay: direct checks failed");
  });
});

describe("same subnet", () => {
  it("compares under the local netmask", () => {
    const local = { name: "eth0", address: "192.168.1.20", netmask: "255.255.255.0" };
    expect(sameSubnet(local, "192.168.1.7")).toBe(true);
    expect(sameSubnet(local, "192.168.2.7")).toBe(false);
    expect(sameSubnet(local, "example.org")).toBe(false);
  });
});

describe("relay URLs a peer names", () => {
  it("get this device's token only on the server's host or a sibling under its parent domain", () => {
    const server = "https://warren.example.org";
    expect(trustedRelayUrl("https://warren.example.org:8443", server)).toBe(true);
    expect(trustedRelayUrl("https://relay3.example.org", server)).toBe(true);
    expect(trustedRelayUrl("https://evil.example.com", server)).toBe(false);
    expect(trustedRelayUrl("http://relay3.example.org", server)).toBe(false);
    expect(trustedRelayUrl("https://example.org.evil.net", server)).toBe(false);
    expect(trustedRelayUrl("http://10.0.0.9:8080", "http://10.0.0.8:8080")).toBe(false);
    expect(trustedRelayUrl("http://10.0.0.8:9090", "http://10.0.0.8:8080")).toBe(true);
    expect(trustedRelayUrl("not a url", server)).toBe(false);
  });
});

describe("a peer's candidates", () => {
  it("keep only IPv4 addresses with a port, of known types, at most 16", () => {
    expect(
      validCandidates([
        { type: "host", addr: "192.168.1.20:51820" },
        { type: "srflx", addr: "evil.example.com:51820" },
        { type: "srflx", addr: "203.0.113.7:0" },
        { type: "srflx", addr: "203.0.113.7:70000" },
        { type: "relay", addr: "203.0.113.7:51820" },
        { type: "fixed", addr: "300.1.1.1:51820" },
        { type: "fixed", addr: 42 },
        null,
        { type: "fixed", addr: "198.51.100.4:4500" },
      ]),
    ).toEqual([
      { type: "host", addr: "192.168.1.20:51820" },
      { type: "fixed", addr: "198.51.100.4:4500" },
    ]);
    expect(validCandidates("nope")).toEqual([]);
    expect(
      validCandidates(Array.from({ length: 40 }, () => ({ type: "host", addr: "10.0.0.1:1" }))),
    ).toHaveLength(16);
  });
});
