import { describe, expect, it } from "vitest";
import { addDays, dayCount, dayOf, dayStartIso, daysFromTo, msUntilNextDay } from "./days.js";

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
