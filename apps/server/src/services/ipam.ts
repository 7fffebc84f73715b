/**
 * IPv4 address arithmetic for networks (docs/communities.md "Addresses"): pure functions,
 * no I/O. Addresses travel as dotted text and are stored and compared as integers
 * (0 .. 2^32-1), which is what peers.address_num holds.
 */

export interface Cidr {
  /** the network address as an integer (host bits zero) */
  base: number;
  prefix: number;
  /** normalised text, e.g. "10.1.0.0/24" */
  text: string;
}

export type CidrResult = { ok: true; cidr: Cidr } | { ok: false; message: string };

const OCTET = /^(0|[1-9][0-9]{0,2})$/;

/** The ranges a network may use: RFC 1918 private space and RFC 6598 shared (CGNAT) space. */
export const ALLOWED_RANGES: readonly Cidr[] = [
  range("10.0.0.0", 8),
  range("172.16.0.0", 12),
  range("192.168.0.0", 16),
  range("100.64.0.0", 10),
];

export const MIN_PREFIX = 8;
export const MAX_PREFIX = 30;

function range(address: string, prefix: number): Cidr {
  const base = ipToInt(address) as number;
  return { base, prefix, text: `${address}/${prefix}` };
}

/** Dotted quad to integer; undefined unless exactly four decimal octets 0-255 (no leading zeros). */
export function ipToInt(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!OCTET.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** How many addresses a prefix covers. Multiplication, not shifts: 1 << 32 wraps in JS. */
export function sizeOf(prefix: number): number {
  return 2 ** (32 - prefix);
}

/** The last address of the range (the broadcast address). */
export function lastOf(cidr: Cidr): number {
  return cidr.base + sizeOf(cidr.prefix) - 1;
}

/**
 * Parses and validates a network range, exactly as written: surrounding whitespace is
 * refused, not trimmed, so what is stored is what was sent. Host bits set ("10.1.0.5/24") are cleared
 * rather than refused: the intent is unambiguous and the answer shows the normalised form.
 */
export function parseCidr(text: string): CidrResult {
  const match = /^([0-9.]+)\/([0-9]{1,2})$/.exec(text);
  if (!match) {
    return { ok: false, message: `cidr must look like 10.1.0.0/24 (IPv4 address/prefix); got "${text}"` };
  }
  const address = ipToInt(match[1] as string);
  if (address === undefined) return { ok: false, message: `"${match[1]}" is not an IPv4 address` };
  const prefix = Number(match[2]);
  if (prefix < MIN_PREFIX || prefix > MAX_PREFIX) {
    return { ok: false, message: `the prefix must be /${MIN_PREFIX} to /${MAX_PREFIX}; got /${prefix}` };
  }
  const size = sizeOf(prefix);
  const base = address - (address % size);
  const cidr: Cidr = { base, prefix, text: `${intToIp(base)}/${prefix}` };
  if (!ALLOWED_RANGES.some((r) => contains(r, cidr))) {
    return {
      ok: false,
      message: `${cidr.text} is not inside a private or shared range (${ALLOWED_RANGES.map((r) => r.text).join(", ")})`,
    };
  }
  return { ok: true, cidr };
}

/** Parses a CIDR already stored (validated when written). */
export function mustParseCidr(text: string): Cidr {
  const r = parseCidr(text);
  if (!r.ok) throw new Error(`stored cidr is invalid: ${text}`);
  return r.cidr;
}

/** Does `outer` contain all of `inner`? */
export function contains(outer: Cidr, inner: Cidr): boolean {
  return inner.base >= outer.base && lastOf(inner) <= lastOf(outer);
}

/** Do the two ranges share any address? */
export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base <= lastOf(b) && b.base <= lastOf(a);
}

/**
 * The addresses a peer may get: every host except the network address, the broadcast
 * address and the first host, which is kept for the network itself.
 */
export function hostRange(cidr: Cidr): { first: number; last: number; gateway: number } {
  return { gateway: cidr.base + 1, first: cidr.base + 2, last: lastOf(cidr) - 1 };
}

export function isAssignable(cidr: Cidr, address: number): boolean {
  const { first, last } = hostRange(cidr);
  return address >= first && address <= last;
}

/**
 * Picks a free address. `taken` lists addresses in use (any order, duplicates and
 * out-of-range values allowed). "lowest" walks up from the first host; "random" draws
 * uniformly among the free ones (`random()` in [0, 1)). Undefined when none is free.
 */
export function pickFree(
  cidr: Cidr,
  taken: Iterable<number>,
  mode: "lowest" | "random",
  random: () => number = Math.random,
): number | undefined {
  const { first, last } = hostRange(cidr);
  const used = [...new Set([...taken].filter((n) => n >= first && n <= last))].sort((a, b) => a - b);
  const free = last - first + 1 - used.length;
  if (free <= 0) return undefined;
  // The k-th free address (0-based): step over each used one at or below the candidate.
  const k = mode === "lowest" ? 0 : Math.min(free - 1, Math.floor(random() * free));
  let candidate = first + k;
  for (const u of used) {
    if (u > candidate) break;
    candidate += 1;
  }
  return candidate;
}
