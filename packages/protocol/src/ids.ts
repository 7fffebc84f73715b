/**
 * UUIDv7 (RFC 9562 §5.7): 48-bit Unix milliseconds, then random bits. Sortable by
 * creation time, so ids double as a stable order in lists and cursors.
 */
let lastMs = 0;
let seq = 0;

export function uuidv7(now: number = Date.now()): string {
  // Keep ids from one process strictly increasing within a millisecond (§6.2 method 1:
  // a 12-bit counter in rand_a).
  if (now <= lastMs) {
    seq += 1;
    if (seq > 0xfff) {
      lastMs += 1;
      seq = 0;
    }
  } else {
    lastMs = now;
    seq = 0;
  }
  // globalThis.crypto: the same code runs in browsers and Node.
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  const ms = BigInt(lastMs);
  for (let i = 0; i < 6; i++) bytes[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  bytes[6] = 0x70 | ((seq >> 8) & 0x0f);
  bytes[7] = seq & 0xff;
  bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";

export function isUuid(value: string): boolean {
  return new RegExp(UUID_PATTERN).test(value);
}
