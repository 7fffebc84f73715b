/**
 * The time services decide by: token and session lifetimes, challenge and invite
 * expiry, room bans, idle rooms and cleanup. Milliseconds since the epoch, like Date.now().
 * The server runs on the system clock; tests may pass their own to startServer.
 */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
