import type { RateBuckets, TakeResult } from "./rate-buckets.js";

const OK: TakeResult = { ok: true, retryAfterMs: 0 };

/** In-process token buckets: two numbers per user, refilled lazily on use. */
export function createMemoryRateBuckets(options: { rate: number; burst: number }): RateBuckets {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const perMs = options.rate / 1000;
  let swept = performance.now();
  /** A bucket full again is the same as none: forget those, once a minute. */
  const sweep = (now: number) => {
    swept = now;
    for (const [key, b] of buckets) {
      if (b.tokens + (now - b.at) * perMs >= options.burst) buckets.delete(key);
    }
  };
  return {
    take(key: string): TakeResult {
      const now = performance.now();
      if (now - swept > 60_000) sweep(now);
      let b = buckets.get(key);
      if (!b) {
        b = { tokens: options.burst, at: now };
        buckets.set(key, b);
      } else {
        b.tokens = Math.min(options.burst, b.tokens + (now - b.at) * perMs);
        b.at = now;
      }
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return OK;
      }
      return { ok: false, retryAfterMs: Math.ceil((1 - b.tokens) / perMs) };
    },
    drop(key: string) {
      buckets.delete(key);
    },
  };
}
