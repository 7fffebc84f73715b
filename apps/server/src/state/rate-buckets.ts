/**
 * Token buckets keyed by user: `rate` tokens per second up to `burst`.
 * Shared by every instance so a user's limit holds across all their sockets.
 */
export interface TakeResult {
  ok: boolean;
  /** when not ok: how long until one token is back */
  retryAfterMs: number;
}

export interface RateBuckets {
  take(key: string): TakeResult | Promise<TakeResult>;
  /** Forgets a key (its user has no sockets left). */
  drop(key: string): void;
}
