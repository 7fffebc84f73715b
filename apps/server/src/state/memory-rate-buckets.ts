import type { RateBuckets, TakeResult } from "./rate-buckets.js";

const OK: TakeResult = { ok: true, retryAfterMs: 0 };
/** How often buckets full again are forgotten. */
const SWEEP_MS = 10_000;

/**
 * The clock, read on every take (about 40 ns). Keeping one read for a whole turn would
 * need a microtask to forget it, and at a steady rate every frame is a turn of its own:
 * the microtask (an async resource and a bound function, about half a microsecond and
 * 200 bytes of garbage) would cost far more than the read it saves.
 */
const clock = (): number => performance.now();

/**
 * In-process token buckets, one number per user: the moment (performance.now(), ms) the
 * bucket will be full again, the "theoretical arrival time" of the generic cell rate
 * algorithm. A take costs 1000/rate ms of it, and is refused when the bucket would have
 * to be fuller than `burst`, that is when the moment lies more than (burst − 1) takes
 * ahead. The same decisions as a bucket of `tokens` and `at`, in a quarter of the
 * memory: the hub holds one per user who sent a frame, idle or not.
 */
export function createMemoryRateBuckets(options: { rate: number; burst: number }): RateBuckets {
  const fullAt = new Map<string, number>();
  const perTake = 1000 / options.rate;
  const ahead = (options.burst - 1) * perTake;
  let swept = performance.now();
  /** A bucket full again is the same as none: forget those. */
  const sweep = (now: number) => {
    swept = now;
    for (const [key, at] of fullAt) if (at <= now) fullAt.delete(key);
  };
  return {
    take(key: string): TakeResult {
      const now = clock();
      if (now - swept > SWEEP_MS) sweep(now);
      const at = Math.max(fullAt.get(key) ?? now, now);
      if (at - now > ahead) return { ok: false, retryAfterMs: Math.ceil(at - now - ahead) };
      fullAt.set(key, at + perTake);
      return OK;
    },
    drop(key: string) {
      fullAt.delete(key);
    },
  };
}
