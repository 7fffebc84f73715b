import { describe, expect, it } from "vitest";
import { createBackoff } from "./backoff.js";

describe("createBackoff", () => {
  it("grows exponentially between min and a cap that stops at max, and resets", () => {
    const top = createBackoff(500, 4000, () => 1);
    expect([top.next(), top.next(), top.next(), top.next(), top.next()]).toEqual([
      1000, 2000, 4000, 4000, 4000,
    ]);
    top.reset();
    expect(top.next()).toBe(1000);
    const bottom = createBackoff(500, 4000, () => 0);
    expect([bottom.next(), bottom.next(), bottom.next()]).toEqual([500, 500, 500]);
  });

  it("jitters within the range", () => {
    const b = createBackoff(100, 30_000);
    for (let i = 0; i < 50; i++) {
      const d = b.next();
      expect(d).toBeGreaterThanOrEqual(100);
      expect(d).toBeLessThanOrEqual(30_000);
    }
  });
});
