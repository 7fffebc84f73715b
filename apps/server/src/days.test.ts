import { describe, expect, it } from "vitest";
import { addDays, dayCount, dayOf, dayStartIso, daysFromTo, isoOf, msUntilNextDay } from "./days.js";

describe("isoOf", () => {
  it("writes the text toISOString writes, across minutes, days and years, in any order", () => {
    const times = [
      0,
      59_999,
      60_000,
      Date.parse("2024-02-29T23:59:59.999Z"),
      Date.parse("2024-03-01T00:00:00.000Z"),
      Date.parse("2026-12-31T23:59:59.009Z"),
      Date.parse("2027-01-01T00:00:00.090Z"),
      253_402_300_799_999,
    ];
    // random times and runs of neighbouring milliseconds, back and forth across minutes
    let seed = 7;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    for (let i = 0; i < 2000; i++) times.push(Math.floor(random() * 4_102_444_800_000));
    const base = Date.parse("2026-06-30T23:59:58.000Z");
    for (let ms = base; ms < base + 4000; ms += 7) times.push(ms, base + 8000 - (ms - base));
    for (const ms of times) expect(isoOf(ms)).toBe(new Date(ms).toISOString());
  });

  it("leaves what it cannot write in four-digit years, or a fraction of a millisecond, to Date", () => {
    for (const ms of [-1, -86_400_001, 253_402_300_800_000, 1.5, 1_700_000_000_000.25])
      expect(isoOf(ms)).toBe(new Date(ms).toISOString());
  });
});

describe("UTC days", () => {
  it("takes a time's UTC day from epoch milliseconds or stored text", () => {
    expect(dayOf(Date.parse("2026-03-01T23:59:59.999Z"))).toBe("2026-03-01");
    expect(dayOf("2026-03-02T00:00:00.000Z")).toBe("2026-03-02");
    expect(dayStartIso("2026-03-02")).toBe("2026-03-02T00:00:00.000Z");
  });

  it("steps over month ends, leap days and years", () => {
    expect(addDays("2024-02-28", 1)).toBe("2024-02-29");
    expect(addDays("2025-02-28", 1)).toBe("2025-03-01");
    expect(addDays("2026-01-01", -1)).toBe("2025-12-31");
    expect(addDays("2026-01-01", -29)).toBe("2025-12-03");
  });

  it("lists and counts days with both ends included", () => {
    expect(daysFromTo("2024-02-27", "2024-03-01")).toEqual([
      "2024-02-27",
      "2024-02-28",
      "2024-02-29",
      "2024-03-01",
    ]);
    expect(daysFromTo("2026-01-02", "2026-01-01")).toEqual([]);
    expect(dayCount("2025-01-01", "2026-01-01")).toBe(366);
    expect(dayCount("2026-05-05", "2026-05-05")).toBe(1);
  });

  it("knows how long until the next midnight", () => {
    expect(msUntilNextDay(Date.parse("2026-03-01T23:59:59.000Z"))).toBe(1000);
    expect(msUntilNextDay(Date.parse("2026-03-01T00:00:00.000Z"))).toBe(86_400_000);
  });
});
