import { usageError } from "./output.js";

/** Parsers for option values; a bad value is a usage error (exit 2). */

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** "90s", "30m", "12h", "7d", "2w" or combined "1h30m" → seconds. */
export function parseDuration(text: string, flag: string): number {
  const parts = [...text.trim().matchAll(/(\d+)\s*([smhdw])/gi)];
  const rebuilt = parts.map((p) => p[0]).join("");
  if (!parts.length || rebuilt.replace(/\s/g, "") !== text.trim().replace(/\s/g, "")) {
    throw usageError(`${flag}: "${text}" is not a duration like 30m, 12h, 7d or 1h30m`);
  }
  const seconds = parts.reduce(
    (sum, p) => sum + Number(p[1]) * (UNITS[(p[2] as string).toLowerCase()] ?? 0),
    0,
  );
  if (seconds <= 0) throw usageError(`${flag}: the duration must be longer than zero`);
  return seconds;
}

export function parsePositiveInt(text: string, flag: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1)
    throw usageError(`${flag}: "${text}" is not a whole number above 0`);
  return Number(text);
}

export function parsePort(text: string, flag: string): number {
  const port = parsePositiveInt(text, flag);
  if (port > 65_535) throw usageError(`${flag}: ${port} is not a port number (1 to 65535)`);
  return port;
}

/** One of `allowed`, else a usage error naming them. */
export function parseChoice<T extends string>(text: string, allowed: readonly T[], what: string): T {
  const value = text.trim().toLowerCase() as T;
  if (!allowed.includes(value))
    throw usageError(`${what} must be one of ${allowed.join(", ")} (got "${text}")`);
  return value;
}
