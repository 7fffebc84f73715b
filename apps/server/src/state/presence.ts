/**
 * Who is connected, per user and device, shared by every instance. No addresses are
 * kept: presence says who is online, never from where (docs/security.md "Presence
 * privacy").
 */
export interface PresenceStore {
  /** Records a connection; true when the user had none before (came online). */
  connect(user: string, device: string): Promise<boolean>;
  /** Records a disconnection; true when it was the user's last (went offline). */
  disconnect(user: string, device: string): Promise<boolean>;
  isOnline(user: string): Promise<boolean>;
  /** When the user was last seen online: null if never (since the store started). */
  lastSeen(user: string): Promise<string | null>;
  /** How many users are online. */
  onlineCount(): Promise<number>;
}
