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

/** Roles in a community, lowest first. "none": not a member. */
export const COMMUNITY_ROLES = ["member", "moderator", "admin", "owner"] as const;
export type CommunityRole = (typeof COMMUNITY_ROLES)[number];

export type CommunityAction =
  | "view" // see the community, its members, networks and chat
  | "update" // name, description, visibility, access, password
  | "delete"
  | "transfer_ownership"
  | "invite" // create and list invites
  | "revoke_invite"
  | "kick"
  | "ban"
  | "unban"
  | "change_role"
  | "create_network"
  | "update_network"
  | "delete_network"
  | "approve_join" // approve or deny network join requests
  | "network_kick"
  | "network_ban"
  | "manage_addresses" // reserve addresses, pin a device to an address
  | "read_peers" // list a network's peers without being an active member of it
  | "remove_peer" // take another member's device out of a network
  | "post_message"
  | "delete_any_message"
  | "read_audit";

/** The lowest role that may take each action. The whole of community authorization. */
const COMMUNITY_TABLE: Record<CommunityAction, CommunityRole> = {
  view: "member",
  post_message: "member",
  invite: "moderator",
  kick: "moderator",
  ban: "moderator",
  unban: "moderator",
  approve_join: "moderator",
  network_kick: "moderator",
  network_ban: "moderator",
  delete_any_message: "moderator",
  revoke_invite: "moderator",
  update: "admin",
  change_role: "admin",
  create_network: "admin",
  update_network: "admin",
  delete_network: "admin",
  manage_addresses: "admin",
  read_peers: "admin",
  remove_peer: "admin",
  read_audit: "admin",
  delete: "owner",
  transfer_ownership: "owner",
};

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
