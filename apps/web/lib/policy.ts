import { COMMUNITY_ROLES, COMMUNITY_TABLE, type CommunityAction, type CommunityRole } from "@warren/protocol";

/**
 * Which buttons to show: the server's own table (from the protocol package), so the page
 * offers only what the viewer may do (a refusal that comes anyway is shown).
 */
export type Role = CommunityRole;
export const ROLES: Role[] = [...COMMUNITY_ROLES];

export const rank = (role: Role | null | undefined): number => (role ? ROLES.indexOf(role) : -1);

export function may(role: Role | null | undefined, action: CommunityAction): boolean {
  return rank(role) >= rank(COMMUNITY_TABLE[action]);
}

/** Acting on another member needs the action and a rank strictly above theirs. */
export function mayActOn(actor: Role | null | undefined, target: Role, action: CommunityAction): boolean {
  return may(actor, action) && rank(target) < rank(actor);
}
