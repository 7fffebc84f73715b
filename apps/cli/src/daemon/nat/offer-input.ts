import type { NatType } from "./reasons.js";
import type { Candidate } from "./types.js";

/** A peer's offer comes over the hub from another machine: it is checked like any input. */

const NAT_TYPES = new Set<unknown>(["none", "cone", "symmetric", "udp-blocked", "unknown"]);
const CANDIDATE_TYPES = new Set<unknown>(["host", "srflx", "fixed"]);
const IPV4_PORT = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3}):(\d{1,5})$/;

/** At most 16 candidates, each an IPv4 address with a port 1-65535 (no names: no DNS). */
export function validCandidates(list: unknown): Candidate[] {
  if (!Array.isArray(list)) return [];
  const out: Candidate[] = [];
  for (const c of list.slice(0, 16) as { type?: unknown; addr?: unknown }[]) {
    if (!c || !CANDIDATE_TYPES.has(c.type) || typeof c.addr !== "string") continue;
    const m = IPV4_PORT.exec(c.addr);
    if (!m) continue;
    const octets = m.slice(1, 5).map(Number);
    const port = Number(m[5]);
    if (octets.some((o) => o > 255) || port < 1 || port > 65_535) continue;
    out.push({ type: c.type as Candidate["type"], addr: c.addr });
  }
  return out;
}

/** The peer's home relay: an instance name and, if any, an http(s) URL to reach it. */
export function validRelay(relay: unknown): { instance: string; url: string | null } | null {
  const r = relay as { instance?: unknown; url?: unknown } | null;
  if (!r || typeof r.instance !== "string" || r.instance.length > 64) return null;
  const url = typeof r.url === "string" && /^https?:\/\/[^\s]{1,200}$/.test(r.url) ? r.url : null;
  return { instance: r.instance, url };
}

export const validNat = (nat: unknown): NatType => (NAT_TYPES.has(nat) ? (nat as NatType) : "unknown");

/** A session key: what a check must carry to prove it comes from this peer's daemon. */
export const validKey = (key: unknown): key is string =>
  typeof key === "string" && /^[A-Za-z0-9_-]{8,64}$/.test(key);

export const splitAddr = (addr: string) => {
  const i = addr.lastIndexOf(":");
  return { host: addr.slice(0, i), port: Number(addr.slice(i + 1)) };
};
