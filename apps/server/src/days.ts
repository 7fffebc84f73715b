/**
 * UTC calendar days as "YYYY-MM-DD" text: the unit of analytics. Stored times
 * are UTC ISO 8601 text, so a time's day is its first ten characters.
 */

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;
/** 9999-12-31T23:59:59.999Z: beyond it toISOString writes a six-digit year */
const LAST_FOUR_DIGIT_YEAR_MS = 253_402_300_799_999;

let minuteStart = Number.NaN;
let minuteText = "";

/**
 * `new Date(ms).toISOString()`, the same text, made cheaper: V8 formats a date through
 * printf, several microseconds, and a WebSocket accept writes three or four of them
 * (session check, analytics row, welcome). The text up to the minute is kept for the
 * minute it names; seconds and milliseconds are added to it.
 */
export function isoOf(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms > LAST_FOUR_DIGIT_YEAR_MS) return new Date(ms).toISOString();
  const rest = ms % MINUTE_MS;
  if (ms - rest !== minuteStart) {
    minuteStart = ms - rest;
    minuteText = new Date(minuteStart).toISOString().slice(0, 17);
  }
  const seconds = Math.floor(rest / 1000);
  const millis = rest % 1000;
  return `${minuteText}${seconds < 10 ? "0" : ""}${seconds}.${millis < 100 ? (millis < 10 ? "00" : "0") : ""}${millis}Z`;
}

/** The UTC day of a time (epoch milliseconds or stored ISO text). */
export function dayOf(time: number | string): string {
  if (typeof time === "string") return time.slice(0, 10);
  return isoOf(time).slice(0, 10);
}

/** Midnight UTC at the start of `day`, in epoch milliseconds. */
export function dayStartMs(day: string): number {
  return Date.parse(`${day}T00:00:00.000Z`);
}

/** Midnight UTC at the start of `day`, as stored ISO text. */
export function dayStartIso(day: string): string {
  return `${day}T00:00:00.000Z`;
}

export function addDays(day: string, n: number): string {
  return dayOf(dayStartMs(day) + n * DAY_MS);
}

/** Days from `from` to `to`, both included; empty when `to` is before `from`. */
export function daysFromTo(from: string, to: string): string[] {
  const out: string[] = [];
  const end = dayStartMs(to);
  for (let t = dayStartMs(from); t <= end; t += DAY_MS) out.push(dayOf(t));
  return out;
}

/** How many days from `from` to `to`, both included. */
export function dayCount(from: string, to: string): number {
  return Math.round((dayStartMs(to) - dayStartMs(from)) / DAY_MS) + 1;
}

/** Milliseconds from `now` until the next UTC midnight. */
export function msUntilNextDay(now: number): number {
  return DAY_MS - (now % DAY_MS);
}
