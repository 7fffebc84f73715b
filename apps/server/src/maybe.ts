/**
 * A value now or later. The in-memory stores answer at once and the Redis ones later;
 * the hub's hot path stays synchronous when every step answered at once, so a relayed
 * frame costs no promise and no microtask on one instance.
 */
export type Maybe<T> = T | Promise<T>;

export function isPromise<T>(value: Maybe<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}
