/**
 * UUIDv7 (RFC 9562 §5.7): 48-bit Unix milliseconds, then random bits. Sortable by
 * creation time, so ids double as a stable order in lists and cursors.
 */
let lastMs = 0;
let seq = 0;

/** two hex digits per byte value */
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));
/** random bytes drawn in bulk: one getRandomValues call per 512 ids instead of per id */
const pool = new Uint8Array(4096);
let poolAt = pool.length;

function random8(): Uint8Array {
  if (poolAt + 8 > pool.length) {
    // globalThis.crypto: the same code runs in browsers and Node.
    globalThis.crypto.getRandomValues(pool);
    poolAt = 0;
  }
  const bytes = pool.subarray(poolAt, poolAt + 8);
  poolAt += 8;
  return bytes;
}

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
  // 48 bits of milliseconds: the high 16 and the low 32, exact in a double.
  const high = Math.floor(lastMs / 2 ** 32);
  const low = lastMs % 2 ** 32;
  const r = random8();
  return (
    HEX[(high >>> 8) & 0xff] +
    HEX[high & 0xff] +
    HEX[(low >>> 24) & 0xff] +
    HEX[(low >>> 16) & 0xff] +
    "-" +
    HEX[(low >>> 8) & 0xff] +
    HEX[low & 0xff] +
    "-" +
    HEX[0x70 | ((seq >> 8) & 0x0f)] +
    HEX[seq & 0xff] +
    "-" +
    HEX[0x80 | ((r[0] as number) & 0x3f)] +
    HEX[r[1] as number] +
    "-" +
    HEX[r[2] as number] +
    HEX[r[3] as number] +
    HEX[r[4] as number] +
    HEX[r[5] as number] +
    HEX[r[6] as number] +
    HEX[r[7] as number]
  );
}

export const UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";

const UUID = new RegExp(UUID_PATTERN);

export function isUuid(value: string): boolean {
  return UUID.test(value);
}
