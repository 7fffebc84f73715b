import { describe, expect, it } from "vitest";
import {
  type Cidr,
  contains,
  hostRange,
  intToIp,
  ipToInt,
  isAssignable,
  mustParseCidr,
  overlaps,
  parseCidr,
  pickFree,
} from "./ipam.js";

const cidr = (text: string): Cidr => mustParseCidr(text);
const ip = (text: string) => ipToInt(text) as number;

describe("ipam", () => {
  it("converts dotted quads and integers both ways, at the edges too", () => {
    expect(ipToInt("0.0.0.0")).toBe(0);
    expect(ipToInt("255.255.255.255")).toBe(2 ** 32 - 1);
    expect(ipToInt("10.1.2.3")).toBe(10 * 2 ** 24 + 1 * 2 ** 16 + 2 * 256 + 3);
    expect(intToIp(2 ** 32 - 1)).toBe("255.255.255.255");
    expect(intToIp(ip("192.168.7.200"))).toBe("192.168.7.200");
    for (const bad of [
      "10.1.2",
      "10.1.2.3.4",
      "10.1.2.256",
      "10.01.2.3",
      "10.1.2.-1",
      "a.b.c.d",
      "",
      "10..2.3",
    ]) {
      expect(ipToInt(bad), bad).toBeUndefined();
    }
  });

  it("accepts private and CGNAT ranges from /8 to /30 and normalises host bits", () => {
    expect(parseCidr("10.0.0.0/8")).toEqual({
      ok: true,
      cidr: { base: ip("10.0.0.0"), prefix: 8, text: "10.0.0.0/8" },
    });
    expect(parseCidr("172.16.0.0/12").ok).toBe(true);
    expect(parseCidr("192.168.1.0/24").ok).toBe(true);
    expect(parseCidr("100.64.0.0/10").ok).toBe(true);
    expect(parseCidr("192.168.1.4/30").ok).toBe(true);
    expect(parseCidr("10.1.0.5/24")).toMatchObject({ ok: true, cidr: { text: "10.1.0.0/24" } });
    expect(parseCidr("172.31.255.255/16")).toMatchObject({ ok: true, cidr: { text: "172.31.0.0/16" } });
  });

  it("refuses a range with surrounding whitespace instead of trimming it", () => {
    for (const text of [" 172.31.0.0/16", "172.31.0.0/16 ", "172.31.0.0/16\n", "\t10.0.0.0/24"]) {
      expect(parseCidr(text).ok, JSON.stringify(text)).toBe(false);
    }
  });

  it("refuses every malformed, out-of-bounds or public range with a message naming the problem", () => {
    const cases: [string, RegExp][] = [
      ["10.0.0.0", /must look like/],
      ["10.0.0.0/", /must look like/],
      ["fd00::/64", /must look like/],
      ["10.0.0.0/24/1", /must look like/],
      ["10.0.0.256/24", /not an IPv4 address/],
      ["10.0.0/24", /not an IPv4 address/],
      ["10.0.0.0/7", /prefix must be \/8 to \/30/],
      ["10.0.0.0/31", /prefix must be \/8 to \/30/],
      ["10.0.0.0/32", /prefix must be \/8 to \/30/],
      ["8.8.8.0/24", /not inside a private or shared range/],
      ["172.15.0.0/16", /not inside a private or shared range/],
      ["172.16.0.0/11", /not inside a private or shared range/],
      ["100.64.0.0/9", /not inside a private or shared range/],
      ["192.168.0.0/15", /not inside a private or shared range/],
      ["11.0.0.0/8", /not inside a private or shared range/],
    ];
    for (const [text, message] of cases) {
      const r = parseCidr(text);
      expect(r.ok, text).toBe(false);
      if (!r.ok) expect(r.message, text).toMatch(message);
    }
  });

  it("tells overlap and containment apart", () => {
    expect(overlaps(cidr("10.1.0.0/24"), cidr("10.1.0.128/25"))).toBe(true);
    expect(overlaps(cidr("10.1.0.0/16"), cidr("10.1.200.0/24"))).toBe(true);
    expect(overlaps(cidr("10.1.0.0/24"), cidr("10.1.1.0/24"))).toBe(false);
    expect(overlaps(cidr("10.0.0.0/8"), cidr("192.168.0.0/16"))).toBe(false);
    expect(contains(cidr("10.0.0.0/8"), cidr("10.9.0.0/16"))).toBe(true);
    expect(contains(cidr("10.9.0.0/16"), cidr("10.0.0.0/8"))).toBe(false);
  });

  it("assigns hosts from the second host to the one before broadcast", () => {
    expect(hostRange(cidr("10.1.0.0/24"))).toEqual({
      gateway: ip("10.1.0.1"),
      first: ip("10.1.0.2"),
      last: ip("10.1.0.254"),
    });
    const net30 = cidr("10.1.0.4/30");
    expect(isAssignable(net30, ip("10.1.0.4"))).toBe(false);
    expect(isAssignable(net30, ip("10.1.0.5"))).toBe(false);
    expect(isAssignable(net30, ip("10.1.0.6"))).toBe(true);
    expect(isAssignable(net30, ip("10.1.0.7"))).toBe(false);
    expect(isAssignable(net30, ip("10.1.0.8"))).toBe(false);
  });

  it("picks the lowest free address, stepping over taken ones, and none when full", () => {
    const net = cidr("10.1.0.0/29"); // hosts .2 to .6
    expect(intToIp(pickFree(net, [], "lowest") as number)).toBe("10.1.0.2");
    const taken = [ip("10.1.0.2"), ip("10.1.0.3"), ip("10.1.0.5"), ip("10.1.0.99")];
    expect(intToIp(pickFree(net, taken, "lowest") as number)).toBe("10.1.0.4");
    expect(intToIp(pickFree(net, [...taken, ip("10.1.0.4")], "lowest") as number)).toBe("10.1.0.6");
    const all = [2, 3, 4, 5, 6].map((h) => ip(`10.1.0.${h}`));
    expect(pickFree(net, all, "lowest")).toBeUndefined();
    expect(pickFree(net, all, "random")).toBeUndefined();
  });

  it("draws random addresses only among free hosts, reaching each of them", () => {
    const net = cidr("10.1.0.0/28"); // hosts .2 to .14
    const taken = [ip("10.1.0.3"), ip("10.1.0.7"), ip("10.1.0.14")];
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const n = pickFree(net, taken, "random") as number;
      expect(isAssignable(net, n)).toBe(true);
      expect(taken).not.toContain(n);
      seen.add(n);
    }
    expect(seen.size).toBe(13 - taken.length);
    // The edges of random(): 0 gives the lowest free, just below 1 the highest free.
    expect(intToIp(pickFree(net, taken, "random", () => 0) as number)).toBe("10.1.0.2");
    expect(intToIp(pickFree(net, taken, "random", () => 0.999999) as number)).toBe("10.1.0.13");
  });

  it("handles a /8 without enumerating it", () => {
    const net = cidr("10.0.0.0/8");
    expect(intToIp(pickFree(net, [ip("10.0.0.2")], "lowest") as number)).toBe("10.0.0.3");
    expect(intToIp(hostRange(net).last)).toBe("10.255.255.254");
    const r = pickFree(net, [], "random") as number;
    expect(isAssignable(net, r)).toBe(true);
  });
});
