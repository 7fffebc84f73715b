/**
 * Reconnect delays: exponential, with full jitter between the minimum and the
 * attempt's cap, so clients dropped together (a server restart) do not come back
 * together. See "Exponential Backoff And Jitter" (AWS Architecture Blog, 2015).
 */
export function createBackoff(minMs: number, maxMs: number, random: () => number = Math.random) {
  let attempt = 0;
  return {
    /** the delay before the next attempt */
    next(): number {
      const cap = Math.min(maxMs, minMs * 2 ** Math.min(attempt + 1, 30));
      attempt += 1;
      return minMs + random() * Math.max(0, cap - minMs);
    },
    /** after a connection succeeded */
    reset(): void {
      attempt = 0;
    },
  };
}

export type Backoff = ReturnType<typeof createBackoff>;
