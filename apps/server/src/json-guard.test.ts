import { describe, expect, it } from "vitest";
import { refuseJson, textMayBeRefused } from "./json-guard.js";

const MAX = 4;
const nested = (depth: number, open = "[", close = "]") => `${open.repeat(depth)}${close.repeat(depth)}`;

/** A random JSON value: objects, arrays, strings with and without NUL, numbers. */
function randomValue(depth: number, rand: () => number): unknown {
  const r = rand();
  if (depth <= 0 || r < 0.3) {
    const s = rand();
    if (s < 0.1) return "a\u0000b";
    if (s < 0.2) return "{[\\u0000 in text, not a NUL]}";
    return s < 0.6 ? Math.floor(s * 1000) : "plain";
  }
  const n = 1 + Math.floor(rand() * 3);
  if (r < 0.65) return Array.from({ length: n }, () => randomValue(depth - 1, rand));
  const obj: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) obj[rand() < 0.05 ? `k\u0000${i}` : `k${i}`] = randomValue(depth - 1, rand);
  return obj;
}

describe("textMayBeRefused", () => {
  it("is false for ordinary frames and at the depth limit", () => {
    expect(textMayBeRefused('{"type":"signal","to":"x","payload":{"t":1,"pad":"xx"}}', MAX)).toBe(false);
    expect(textMayBeRefused(nested(MAX), MAX)).toBe(false);
    expect(refuseJson(JSON.parse(nested(MAX)), MAX)).toBeUndefined();
  });

  it("is true whenever the walk refuses: one level too deep, NUL in a value or a key", () => {
    for (const text of [
      nested(MAX + 1),
      nested(MAX + 1, '{"a":', "}").replace(/\{"a":\}/, "{}"),
      '{"a":"x\\u0000"}',
      '{"a\\u0000":1}',
    ]) {
      expect(refuseJson(JSON.parse(text), MAX), text).toBeDefined();
      expect(textMayBeRefused(text, MAX), text).toBe(true);
    }
  });

  it("never lets a refused value through, over many random values", () => {
    let seed = 42;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    let refused = 0;
    for (let i = 0; i < 5000; i++) {
      const text = JSON.stringify(randomValue(MAX + 2, rand));
      if (refuseJson(JSON.parse(text), MAX) === undefined) continue;
      refused += 1;
      expect(textMayBeRefused(text, MAX), text).toBe(true);
    }
    expect(refused).toBeGreaterThan(100);
  });
});
