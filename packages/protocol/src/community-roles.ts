/**
 * Roles in a community and the lowest role each action needs: the server's policy
 * module decides with this table, and clients read it to offer only what a viewer may do.
 */
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
export const COMMUNITY_TABLE: Record<CommunityAction, CommunityRole> = {
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
