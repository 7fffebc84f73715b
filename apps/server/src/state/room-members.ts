import type { Maybe } from "../maybe.js";

/**
 * Live room membership, shared by every instance (memory now; Redis when the hub
 * spans processes). Room metadata lives in the database; who is in a room right now
 * lives here, because it changes with every connect and disconnect.
 */
export type AddResult = "added" | "already" | "full";

export interface RoomMembers {
  /** Adds a member unless the room already holds `max`; atomic, so racing joins cannot overfill it. */
  add(room: string, user: string, max: number): Promise<AddResult>;
  /** Removes a member; true if they were one. */
  remove(room: string, user: string): Promise<boolean>;
  members(room: string): Promise<string[]>;
  isMember(room: string, user: string): Promise<boolean>;
  roomsOf(user: string): Promise<string[]>;
  /** True when the two users are both members of at least one room (the relay rule). */
  shareRoom(a: string, b: string): Maybe<boolean>;
  /** Empties a room; returns who was in it. */
  clear(room: string): Promise<string[]>;
}
