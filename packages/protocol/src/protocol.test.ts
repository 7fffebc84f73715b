import { describe, expect, it } from "vitest";
import { ERRORS, isErrorCode, statusOf } from "./errors.js";
import { isUuid, uuidv7 } from "./ids.js";

describe("uuidv7", () => {
  it("makes RFC 9562 version-7 ids that sort by creation", () => {
    const ids = Array.from({ length: 2000 }, () => uuidv7());
    for (const id of ids) {
      expect(isUuid(id)).toBe(true);
      expect(id[14]).toBe("7");
      expect("89ab").toContain(id[19]);
    }
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("carries the millisecond timestamp in its first 48 bits", () => {
    const ms = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    const id = uuidv7(ms + 10_000_000);
    expect(Number.parseInt(id.replace(/-/g, "").slice(0, 12), 16)).toBeGreaterThanOrEqual(ms);
    // a time later than every id made so far is carried exactly, high bits included
    const later = 2 ** 47 + 12_345;
    const exact = uuidv7(later);
    expect(Number.parseInt(exact.replace(/-/g, "").slice(0, 12), 16)).toBe(later);
    expect(exact.slice(14, 18)).toBe("7000");
  });

  it("differs in its random bits between ids of one millisecond", () => {
    const ids = Array.from({ length: 1000 }, () => uuidv7(2 ** 47 + 99_999).slice(19));
    expect(new Set(ids).size).toBe(1000);
  });
});

describe("error table", () => {
  it("maps every code to an HTTP error status", () => {
    for (const code of Object.keys(ERRORS)) {
      expect(isErrorCode(code)).toBe(true);
      expect(statusOf(code as keyof typeof ERRORS)).toBeGreaterThanOrEqual(400);
    }
    expect(isErrorCode("nope")).toBe(false);
    expect(statusOf("rate_limited")).toBe(429);
  });
});
