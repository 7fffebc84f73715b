import type { Redis } from "ioredis";
import { createMemoryRateBuckets } from "./memory-rate-buckets.js";
import type { RateBuckets, TakeResult } from "./rate-buckets.js";

/** `<p>bucket:<key>` HASH { t: tokens, at: ms }; expires once it would be full again. */
export const bucketKey = (prefix: string, key: string) => `${prefix}bucket:${key}`;

/**
 * KEYS: bucket. ARGV: tokens per ms, burst. Refill, take and store in one step, timed by
 * Redis's clock so instances whose clocks differ still share one bucket. A missing key is
 * a full bucket, which is why it may expire once refilled. Returns { ok, retryAfterMs }.
 */
const TAKE = `
local perMs = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 't', 'at')
local tokens = burst
if b[1] and b[2] then
  tokens = math.min(burst, tonumber(b[1]) + math.max(0, now - tonumber(b[2])) * perMs)
end
local ok, retry = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  ok = 1
else
  retry = math.ceil((1 - tokens) / perMs)
end
redis.call('HSET', KEYS[1], 't', string.format('%.17g', tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / perMs) + 1)
return { ok, retry }
`;

const OK: TakeResult = { ok: true, retryAfterMs: 0 };

interface Scripts {
  warrenBucketTake(key: string, perMs: string, burst: number): Promise<[number, number]>;
}

/**
 * Token buckets shared by every instance (seeds 002/003, issue 7). While Redis is away a
 * take falls back to this process's own bucket for the key, so an instance keeps limiting
 * its clients (each instance alone, not their sum) instead of letting everything through.
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
  const fallback = createMemoryRateBuckets(options);
  return {
    async take(key) {
      try {
        const [ok, retryAfterMs] = await run.warrenBucketTake(bucketKey(prefix, key), perMs, options.burst);
        return ok === 1 ? OK : { ok: false, retryAfterMs };
      } catch {
        return fallback.take(key);
      }
    },
    // Other instances may still use the key: the Redis bucket expires by itself once full.
    drop: (key) => fallback.drop(key),
  };
}
