import type { RelayType } from "./client-frames.js";

/**
 * A hand-written check for the relay frames (offer, answer, candidate, signal), which
 * are most of what a hub handles: the compiled schema tests "to" with a Unicode regular
 * expression, which cost more than the rest of the check together.
 *
 * It answers true only for a frame ClientFrames[type] accepts (relay-frame-check.test.ts
 * holds the two against each other), and false for anything it is not sure of, such as
 * an id longer than 64 UTF-16 units that may still be 64 code points: false means "ask
 * the schema", which has the last word and says what is wrong. Mirrors the schema:
 * required keys by `in`, optional ones absent or undefined, as TypeBox checks them.
 */
export function isRelayFrame(frame: object, type: RelayType): boolean {
  if (frame === null || Array.isArray(frame)) return false;
  const f = frame as { type?: unknown; id?: unknown; to?: unknown; to_device?: unknown };
  if (!("type" in f && "to" in f && "payload" in f) || f.type !== type) return false;
  const id = f.id;
  if (id !== undefined && "id" in f && (typeof id !== "string" || id.length === 0 || id.length > 64))
    return false;
  const to = f.to;
  if (typeof to !== "string" || !isKnownId(to)) return false;
  const device = f.to_device;
  return device === undefined || !("to_device" in f) || (typeof device === "string" && isDeviceId(device));
}

/**
 * Recipients seen to match UUID_PATTERN: a sender's burst names the same few peers, and
 * a set lookup (the string's hash, which the relay's own lookups need anyway) costs a
 * fraction of looking at 36 characters one by one. Bounded: emptied when full.
 */
const knownIds = new Set<string>();
const MAX_KNOWN_IDS = 10_000;

function isKnownId(s: string): boolean {
  if (knownIds.has(s)) return true;
  if (!isUuidText(s)) return false;
  if (knownIds.size >= MAX_KNOWN_IDS) knownIds.clear();
  knownIds.add(s);
  return true;
}

/** UUID_PATTERN (ids.ts): 8-4-4-4-12 lowercase hex digits. */
function isUuidText(s: string): boolean {
  if (s.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false;
    } else if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/** The schema's device id: ^[A-Za-z0-9_.:-]{1,64}$ */
function isDeviceId(s: string): boolean {
  if (s.length === 0 || s.length > 64) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok =
      (c >= 97 && c <= 122) || // a-z
      (c >= 65 && c <= 90) || // A-Z
      (c >= 48 && c <= 58) || // 0-9 and ":"
      c === 95 || // _
      c === 46 || // .
      c === 45; // -
    if (!ok) return false;
  }
  return true;
}
