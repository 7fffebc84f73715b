import { isoOf } from "../days.js";

/** What a service may know about the request that called it. */
export interface RequestContext {
  /** the client address; services record it only where configuration allows */
  ip: string | undefined;
  /** the User-Agent header, kept on a session so its owner can tell sessions apart */
  userAgent?: string | undefined;
}

/** The moment "now", as stored: UTC ISO 8601 with milliseconds. */
export function nowIso(at: number = Date.now()): string {
  return isoOf(at);
}

export function isoAfter(ms: number, from: number = Date.now()): string {
  return new Date(from + ms).toISOString();
}
