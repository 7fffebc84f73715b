/**
 * The instances sharing one Redis. Each one beats; one that stops beating for
 * longer than INSTANCE_TTL counts as dead, and a live one takes the dead one's sockets
 * out of presence and device counts, so its users go offline within a minute.
 */
export interface Instances {
  /** this instance's name (INSTANCE_ID) */
  readonly id: string;
  /**
   * Marks this instance alive; the hub calls it every third of INSTANCE_TTL. False when
   * the instance was not registered before: its first beat, or others reaped it (it
   * stalled) or Redis lost everything; the hub then restores its share.
   */
  beat(): Promise<boolean>;
  /**
   * Takes every dead instance's sockets out of presence and device counts (each dead
   * instance is reaped by one live one) and says who went offline because of it.
   */
  reap(): Promise<Reaped>;
  /**
   * Rewrites this instance's share of the shared state from its own sockets, after
   * Redis came back (it may have restarted empty). Idempotent; no events.
   */
  restore(snapshot: Snapshot): Promise<void>;
}

export interface Reaped {
  /** users with no socket left on any instance */
  users: string[];
  /** (user, device) pairs with no socket left on any instance */
  devices: { user: string; device: string }[];
}

export interface Snapshot {
  /** one entry per open socket of this instance (a device with two sockets appears twice) */
  sockets: { user: string; device: string }[];
  /** the rooms this instance's users are in, as seen by its sockets' room topics */
  rooms: { room: string; user: string }[];
}

/** One process: nothing to beat, reap or restore. */
export const localInstance = (id: string): Instances => ({
  id,
  beat: async () => true,
  reap: async () => ({ users: [], devices: [] }),
  restore: async () => {},
});
