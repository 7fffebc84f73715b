/**
 * How many hub sockets each (user, device) has open, shared by every instance (a
 * device connected with its id is online in its networks). Only the first socket and
 * the last one matter to peers, so the store answers exactly that. Keyed by the pair:
 * a device id is the client's word, and another user claiming it must not count.
 */
export interface DeviceSockets {
  /** Counts a socket of the device; true when it had none before (came online). */
  open(user: string, device: string): Promise<boolean>;
  /** Uncounts a socket; true when it was the device's last (went offline). */
  close(user: string, device: string): Promise<boolean>;
  /** The device ids among these (user, device) pairs that have at least one socket. */
  online(pairs: readonly { user: string; device: string }[]): Promise<Set<string>>;
}
