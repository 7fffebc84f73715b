/**
 * Which buttons to show. The server's policy module decides; this mirrors its table so
 * the page offers only what the viewer may do (a refusal that comes anyway is shown).
 */
export type Role = "member" | "moderator" | "admin" | "owner";
export const ROLES: Role[] = ["member", "moderator", "admin", "owner"];

const LOWEST: Record<string, Role> = {
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
  read_audit: "admin",
  delete: "owner",
  transfer_ownership: "owner",
};

export const rank = (role: Role | null | undefined): number => (role ? ROLES.indexOf(role) : -1);

export function may(role: Role | null | undefined, action: keyof typeof LOWEST): boolean {
  return rank(role) >= rank(LOWEST[action]);
}

/** Acting on another member needs the action and a rank strictly above theirs. */
export function mayActOn(actor: Role | null | undefined, target: Role, action: string): boolean {
  return may(actor, action) && rank(target) < rank(actor);
}
