import type { Redis } from "ioredis";
import {
  type IRateLimiterOptions,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from "rate-limiter-flexible";
import { AppError } from "../errors.js";

export interface BruteForceOptions {
  perAccount: number;
  perIp: number;
  windowMs: number;
  /** the Redis client: counters shared by every instance */
  redis?: Redis;
  /** key namespace, so several guards can share one store */
  prefix?: string;
  /** REDIS_KEY_PREFIX: every key starts with it (default "warren:") */
  keyPrefix?: string;
}

type Limiter = RateLimiterMemory | RateLimiterRedis;

/**
 * Counts failed sign-ins per account and per client address (rate-limiter-flexible).
 * Once a counter reaches its limit, attempts answer 429 until the window passes,
 * whether or not the password would have been right.
 */
export function createBruteForceGuard(options: BruteForceOptions) {
  const duration = Math.max(1, Math.ceil(options.windowMs / 1000));
  const make = (prefix: string, points: number): Limiter => {
    const base: IRateLimiterOptions = {
      keyPrefix: `${options.keyPrefix ?? "warren:"}${options.prefix ?? "signin"}:${prefix}`,
      points,
      duration,
    };
    if (!options.redis) return new RateLimiterMemory(base);
    // If Redis is unreachable, fall back to counting in this process rather than
    // letting every attempt through.
    return new RateLimiterRedis({
      ...base,
      storeClient: options.redis,
      insuranceLimiter: new RateLimiterMemory(base),
    });
  };
  const account = make("account", options.perAccount);
  const ip = make("ip", options.perIp);

  const blocked = async (limiter: Limiter, key: string, limit: number): Promise<number> => {
    const res = await limiter.get(key);
    return res && res.consumedPoints >= limit ? res.msBeforeNext : 0;
  };

  const tooMany = (ms: number) => {
    const seconds = Math.max(1, Math.ceil(ms / 1000));
    return new AppError("rate_limited", `Too many failed sign-ins; try again in ${seconds} s`, {
      headers: { "retry-after": String(seconds) },
      details: { retry_after: seconds },
    });
  };

  return {
    /** Throws rate_limited when either counter is exhausted. */
    async check(accountKey: string | undefined, address: string | undefined): Promise<void> {
      const waits = await Promise.all([
        accountKey ? blocked(account, accountKey.toLowerCase(), options.perAccount) : 0,
        address ? blocked(ip, address, options.perIp) : 0,
      ]);
      const wait = Math.max(...waits);
      if (wait > 0) throw tooMany(wait);
    },
    async fail(accountKey: string | undefined, address: string | undefined): Promise<void> {
      const spend = async (limiter: Limiter, key: string) => {
        try {
          await limiter.consume(key);
        } catch (err) {
          // consume() rejects with RateLimiterRes once over the limit: that is the
          // counting working, not an error.
          if (!(err instanceof RateLimiterRes)) throw err;
        }
      };
      await Promise.all([
        accountKey ? spend(account, accountKey.toLowerCase()) : undefined,
        address ? spend(ip, address) : undefined,
      ]);
    },
    /** A successful sign-in clears the account's counter (not the address's). */
    async succeed(accountKey: string | undefined): Promise<void> {
      if (accountKey) await account.delete(accountKey.toLowerCase());
    },
  };
}

export type BruteForceGuard = ReturnType<typeof createBruteForceGuard>;
