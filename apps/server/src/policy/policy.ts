import { COMMUNITY_ROLES, COMMUNITY_TABLE, type CommunityAction, type CommunityRole } from "@warren/protocol";

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
 * (another of their devices) or users who share a scope: a room, a community or a
 * network. A fact left out was not looked up and counts as false.
 */
export function mayContact(facts: {
  sameUser: boolean;
  shareRoom: boolean;
  shareCommunity?: boolean;
  shareNetwork?: boolean;
}): boolean {
  return facts.sameUser || facts.shareRoom || facts.shareCommunity === true || facts.shareNetwork === true;
}

// The community table is part of the wire contract (clients show only what a role may
// do), so it lives in the protocol package; the decisions are made here.
export { COMMUNITY_ROLES, type CommunityAction, type CommunityRole } from "@warren/protocol";

export const COMMUNITY_ACTIONS = Object.keys(COMMUNITY_TABLE) as CommunityAction[];

export function rank(role: CommunityRole | "none"): number {
  return role === "none" ? -1 : COMMUNITY_ROLES.indexOf(role);
}

/** May someone with `role` take `action` in the community? */
export function mayInCommunity(role: CommunityRole | "none", action: CommunityAction): boolean {
  return rank(role) >= rank(COMMUNITY_TABLE[action]);
}

/**
 * Actions on another member (kick, ban, change_role, network_kick, network_ban): the
 * actor must be allowed the action and rank strictly above the target, so nobody acts
 * on their equal or better and the owner can never be kicked or banned. A role change
 * also may not grant a role above the actor's own; only the owner hands over
 * ownership, through transfer_ownership, never through change_role.
 */
export function mayActOnMember(
  actor: CommunityRole | "none",
  target: CommunityRole | "none",
  action: "kick" | "ban" | "unban" | "change_role" | "network_kick" | "network_ban",
  newRole?: CommunityRole,
): boolean {
  if (!mayInCommunity(actor, action)) return false;
  if (rank(target) >= rank(actor)) return false;
  if (action === "change_role") {
    if (newRole === undefined || newRole === "owner") return false;
    if (rank(newRole) > rank(actor)) return false;
  }
  return true;
}

/** May a member of `role` see or join a network that requires `required`? */
export function meetsRole(role: CommunityRole | "none", required: CommunityRole): boolean {
  return rank(role) >= rank(required);
}

/**
 * Who sees a network at all (anyone else gets 404, like a random id): community
 * members who belong to it (active or pending), admins and the owner, and, for a
 * public network, every community member who meets its required role.
 */
export function mayViewNetwork(
  role: CommunityRole | "none",
  network: { visibility: "public" | "private"; required_role: CommunityRole },
  status: "active" | "pending" | null,
): boolean {
  if (role === "none") return false;
  if (status !== null || mayInCommunity(role, "update_network")) return true;
  return network.visibility === "public" && meetsRole(role, network.required_role);
}

/**
 * Who sees a network's peers (addresses, keys, endpoints): its active members, and
 * admins and the owner of the community. Anyone else gets 404, like a random id.
 */
export function maySeePeers(role: CommunityRole | "none", status: "active" | "pending" | null): boolean {
  if (role === "none") return false;
  return status === "active" || mayInCommunity(role, "read_peers");
}

/** A device's owner may always take it out of a network; others need remove_peer. */
export function mayRemovePeer(role: CommunityRole | "none", ownsDevice: boolean): boolean {
  return ownsDevice || mayInCommunity(role, "remove_peer");
}

/**
 * Server admins: users named in ADMIN_USERS, by username (any case)
 * or id, and the first account created on an empty server (users.is_admin). The one
 * definition for admin-only hub commands and admin-only REST routes. `adminUsers` holds
 * the ADMIN_USERS entries lower-cased (see adminSet).
 */
export function isServerAdmin(
  user: { id: string; username_key: string; is_admin: number | boolean },
  adminUsers: ReadonlySet<string>,
): boolean {
  return Boolean(user.is_admin) || adminUsers.has(user.username_key) || adminUsers.has(user.id);
}

/** ADMIN_USERS as isServerAdmin reads it: lower-cased (usernames ignore case; ids are lower-case). */
export function adminSet(adminUsers: readonly string[]): ReadonlySet<string> {
  return new Set(adminUsers.map((u) => u.toLowerCase()));
}

/** Server commands marked admin run only for server admins (isServerAdmin). */
export function mayRunCommand(command: { admin: boolean }, user: { isAdmin: boolean }): boolean {
  return !command.admin || user.isAdmin;
}
