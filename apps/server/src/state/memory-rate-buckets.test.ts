import { afterEach, describe, expect, it, vi } from "vitest";
import { createMemoryRateBuckets } from "./memory-rate-buckets.js";
import type { TakeResult } from "./rate-buckets.js";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("memory rate buckets", () => {
  it("reads the clock once for the frames of one turn, and again in the next", async () => {
    const buckets = createMemoryRateBuckets({ rate: 1000, burst: 100 });
    const clock = vi.spyOn(performance, "now");
    for (let i = 0; i < 20; i++) expect(buckets.take(`user${i % 3}`)).toMatchObject({ ok: true });
    expect(clock).toHaveBeenCalledTimes(1);
    await Promise.resolve();
    buckets.take("user0");
    expect(clock).toHaveBeenCalledTimes(2);
  });

  it("refills between turns: a bucket emptied in one turn has tokens after the refill time", async () => {
    const memory = createMemoryRateBuckets({ rate: 100, burst: 3 });
    // The memory buckets answer at once; the interface allows a promise for Redis.
    const buckets = { take: (key: string) => memory.take(key) as TakeResult };
    for (let i = 0; i < 3; i++) expect(buckets.take("u").ok).toBe(true);
    const refused = buckets.take("u");
    expect(refused.ok).toBe(false);
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, refused.retryAfterMs + 20));
    expect(buckets.take("u").ok).toBe(true);
  });
});
