import type { Redis } from "ioredis";
import type { Maybe } from "../maybe.js";
import { createMemoryRateBuckets } from "./memory-rate-buckets.js";
import type { RateBuckets, TakeResult } from "./rate-buckets.js";

/** `<p>bucket:<key>` HASH { t: tokens, at: ms }; expires once it would be full again. */
export const bucketKey = (prefix: string, key: string) => `${prefix}bucket:${key}`;

/**
 * KEYS: bucket. ARGV: tokens per ms, burst, tokens wanted. Refill, take up to the wanted
 * number and store in one step, timed by Redis's clock so instances whose clocks differ
 * still share one bucket. A missing key is a full bucket, which is why it may expire once
 * refilled. Returns { tokens granted, retryAfterMs when none }.
 */
const TAKE = `
local perMs = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = burst
if b[1] and b[2] then
  tokens = math.min(burst, tonumber(b[1]) + math.max(0, now - tonumber(b[2])) * perMs)
end
local got, retry = 0, 0
if tokens >= 1 then
  got = math.min(want, math.floor(tokens))
  tokens = tokens - got
else
  retry = math.ceil((1 - tokens) / perMs)
end
redis.call('HSET', KEYS[1], 't', string.format('%.17g', tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / perMs) + 1)
return { got, retry }
`;

const OK: TakeResult = { ok: true, retryAfterMs: 0 };

interface Scripts {
  warrenBucketTake(key: string, perMs: string, burst: number, want: number): Promise<[number, number]>;
}

/** Tokens an instance holds for a key, taken from the shared bucket ahead of use. */
interface Lease {
  tokens: number;
  /** performance.now() after which unused tokens are given up (never returned) */
  until: number;
  /** a top-up asked of Redis and not yet answered */
  topping?: Promise<void>;
}

/** Unused leased tokens lapse after this long, so an idle instance does not hoard them. */
const LEASE_MS = 1000;

/**
 * Token buckets shared by every instance. An instance takes
 * tokens from the shared bucket a few at a time (a lease: burst / 20, at most 64, at
 * least 1) and spends them locally, so a busy user costs one Redis call per lease, not
 * per frame. A lease three quarters spent, or near its end, is topped up to full in the
 * background while its last tokens are spent, so a steady sender's frames do not wait
 * for Redis.
 * Tokens are only ever taken from the shared bucket, so a user's frames across all
 * instances never exceed the limit; leased tokens an instance does not spend lapse (a
 * user spread over instances may get up to a lease fewer per instance in a burst).
 * While Redis is away a take falls back to this process's own bucket for the key, so an
 * instance keeps limiting its clients (each instance alone, not their sum).
 */
export function createRedisRateBuckets(
  redis: Redis,
  prefix: string,
  options: { rate: number; burst: number },
): RateBuckets {
  if (!(options.rate > 0) || !(options.burst >= 1)) throw new Error("rate must be > 0 and burst >= 1");
  redis.defineCommand("warrenBucketTake", { numberOfKeys: 1, lua: TAKE });
  const run = redis as unknown as Scripts;
  const perMs = String(options.rate / 1000);
  const leaseSize = Math.max(1, Math.min(64, Math.floor(options.burst / 20)));
  const fallback = createMemoryRateBuckets(options);
  const leases = new Map<string, Lease>();
  const ask = (key: string, want: number) =>
    run.warrenBucketTake(bucketKey(prefix, key), perMs, options.burst, want);

  const fromRedis = async (key: string): Promise<TakeResult> => {
    try {
      const [got, retryAfterMs] = await ask(key, leaseSize);
      if (got < 1) return { ok: false, retryAfterMs };
      if (got > 1) leases.set(key, { tokens: got - 1, until: performance.now() + LEASE_MS });
      return OK;
    } catch {
      return fallback.take(key);
    }
  };

  /** Tops the lease up to full; a refusal or an error leaves it as it is. */
  const topUp = (key: string, lease: Lease) => {
    lease.topping = ask(key, leaseSize - lease.tokens).then(
      ([got]) => {
        lease.topping = undefined;
        if (got < 1) return;
        lease.tokens += got;
        lease.until = performance.now() + LEASE_MS;
      },
      () => {
        lease.topping = undefined;
      },
    );
  };

  const take = (key: string): Maybe<TakeResult> => {
    const now = performance.now();
    if (now - swept > 60_000) {
      swept = now;
      for (const [k, l] of leases) if (now >= l.until) leases.delete(k);
    }
    const lease = leases.get(key);
    if (lease && now < lease.until) {
      if (lease.tokens > 0) {
        lease.tokens -= 1;
        const low = lease.tokens * 4 < leaseSize || lease.until - now < LEASE_MS / 4;
        if (low && !lease.topping && leaseSize > 1) topUp(key, lease);
        return OK;
      }
      // Spent while its top-up is on the way: wait for that instead of asking again.
      if (lease.topping) return lease.topping.then(() => take(key));
    }
    if (lease) leases.delete(key);
    return fromRedis(key);
  };

  let swept = performance.now();
  return {
    take,
    // Other instances may still use the key: the Redis bucket expires by itself once full.
    drop(key) {
      leases.delete(key);
      fallback.drop(key);
    },
  };
}
