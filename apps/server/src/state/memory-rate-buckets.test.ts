import { describe, expect, it } from "vitest";
import { createMemoryRateBuckets } from "./memory-rate-buckets.js";
import type { TakeResult } from "./rate-buckets.js";

describe("memory rate buckets", () => {
  it("sees time pass within one turn: a long turn refills a bucket it emptied", () => {
    const buckets = createMemoryRateBuckets({ rate: 100, burst: 1 });
    expect(buckets.take("u")).toMatchObject({ ok: true });
    expect(buckets.take("u")).toMatchObject({ ok: false });
    const until = performance.now() + 15;
    while (performance.now() < until) {
      // a turn busy for longer than one take's refill time (10 ms)
    }
    expect(buckets.take("u")).toMatchObject({ ok: true });
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
