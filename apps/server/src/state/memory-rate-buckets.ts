import type { RateBuckets, TakeResult } from "./rate-buckets.js";

const OK: TakeResult = { ok: true, retryAfterMs: 0 };

/**
 * The time for every frame handled in one turn: a burst of frames arrives in one read
 * and is handled before anything else runs, so one clock read serves all of it; the
 * turn's microtasks forget it. (A turn is far shorter than a token's refill time.)
 */
let turnNow: number | undefined;
const forgetTurn = () => {
  turnNow = undefined;
};
function now(): number {
  if (turnNow === undefined) {
    turnNow = performance.now();
    queueMicrotask(forgetTurn);
  }
  return turnNow;
}

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
      const at = now();
      if (at - swept > 60_000) sweep(at);
      let b = buckets.get(key);
      if (!b) {
        b = { tokens: options.burst, at };
        buckets.set(key, b);
      } else {
        b.tokens = Math.min(options.burst, b.tokens + (at - b.at) * perMs);
        b.at = at;
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
