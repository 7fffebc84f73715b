/**
 * Who may do what: one module, one table (DESIGN.md principle 5). Services gather the
 * facts (roles, shared scopes) and ask here; nothing else decides.
 */

/** A user's standing in a room. */
export type RoomRole = "owner" | "member" | "outsider";

export type RoomAction = "rename" | "kick" | "delete" | "broadcast" | "leave" | "view";

const ROOM_TABLE: Record<RoomAction, readonly RoomRole[]> = {
  rename: ["owner"],
  kick: ["owner"],
  delete: ["owner"],
  broadcast: ["owner", "member"],
  leave: ["owner", "member"],
  view: ["owner", "member"],
};

export function mayInRoom(role: RoomRole, action: RoomAction): boolean {
  return ROOM_TABLE[action].includes(role);
}

/**
 * Signaling, presence and direct contact between two users: allowed for the same user
 * (another of their devices) or users who share a scope. Rooms are the only scope
 * today; networks and communities (issue 4) will widen this here.
 */
export function mayContact(facts: { sameUser: boolean; shareRoom: boolean }): boolean {
  return facts.sameUser || facts.shareRoom;
}

/** Server commands marked admin run only for users named in ADMIN_USERS. */
export function mayRunCommand(command: { admin: boolean }, user: { isAdmin: boolean }): boolean {
  return !command.admin || user.isAdmin;
}
