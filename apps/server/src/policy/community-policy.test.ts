import { describe, expect, it } from "vitest";
import {
  COMMUNITY_ACTIONS,
  COMMUNITY_ROLES,
  type CommunityAction,
  type CommunityRole,
  mayActOnMember,
  mayInCommunity,
  meetsRole,
  rank,
} from "./policy.js";

type Who = CommunityRole | "none";
const EVERYONE: Who[] = ["none", ...COMMUNITY_ROLES];

/**
 * The lowest role for each action, written out here as docs/communities.md states it,
 * so that a change to the table in policy.ts must be made on purpose in both places
 * (a new action needs its row here too).
 */
const LOWEST: Record<CommunityAction, CommunityRole> = {
  view: "member",
  post_message: "member",
  invite: "moderator",
  revoke_invite: "moderator",
  kick: "moderator",
  ban: "moderator",
  unban: "moderator",
  approve_join: "moderator",
  network_kick: "moderator",
  network_ban: "moderator",
  delete_any_message: "moderator",
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

const MEMBER_ACTIONS = ["kick", "ban", "unban", "change_role", "network_kick", "network_ban"] as const;

describe("community policy", () => {
  it("orders the roles member < moderator < admin < owner, and a non-member below all", () => {
    expect(COMMUNITY_ROLES).toEqual(["member", "moderator", "admin", "owner"]);
    expect(EVERYONE.map(rank)).toEqual([-1, 0, 1, 2, 3]);
  });

  it("lists every action once, each with a lowest role", () => {
    expect([...COMMUNITY_ACTIONS].sort()).toEqual(Object.keys(LOWEST).sort());
  });

  it.each(COMMUNITY_ACTIONS)("%s: allowed from its lowest role up, never to non-members", (action) => {
    const lowest = LOWEST[action];
    for (const who of EVERYONE) {
      const expected = who !== "none" && rank(who) >= rank(lowest);
      expect(mayInCommunity(who, action), `${who} ${action}`).toBe(expected);
    }
  });

  it("only the owner deletes the community or hands it over", () => {
    for (const who of EVERYONE) {
      expect(mayInCommunity(who, "delete")).toBe(who === "owner");
      expect(mayInCommunity(who, "transfer_ownership")).toBe(who === "owner");
    }
  });

  it("the owner is never a target: not kicked, banned or demoted by anyone", () => {
    for (const actor of EVERYONE) {
      for (const action of MEMBER_ACTIONS) {
        expect(mayActOnMember(actor, "owner", action, "member"), `${actor} ${action} owner`).toBe(false);
      }
    }
  });

  it("acting on a member needs the action's role and a strictly higher rank than the target", () => {
    for (const actor of EVERYONE) {
      for (const target of EVERYONE) {
        for (const action of MEMBER_ACTIONS) {
          const newRole = action === "change_role" ? "member" : undefined;
          const expected = mayInCommunity(actor, action) && rank(target) < rank(actor);
          expect(mayActOnMember(actor, target, action, newRole), `${actor} ${action} ${target}`).toBe(
            expected,
          );
        }
      }
    }
    // spot checks that do not lean on the loop's own formula
    expect(mayActOnMember("moderator", "member", "kick")).toBe(true);
    expect(mayActOnMember("moderator", "moderator", "kick")).toBe(false);
    expect(mayActOnMember("member", "none", "ban")).toBe(false);
    expect(mayActOnMember("moderator", "none", "ban")).toBe(true);
    expect(mayActOnMember("admin", "moderator", "ban")).toBe(true);
    expect(mayActOnMember("admin", "admin", "ban")).toBe(false);
  });

  it("nobody grants a role above their own, and nobody grants owner through change_role", () => {
    for (const actor of EVERYONE) {
      for (const target of EVERYONE) {
        for (const newRole of COMMUNITY_ROLES) {
          const allowed = mayActOnMember(actor, target, "change_role", newRole);
          if (newRole === "owner") expect(allowed, `${actor} makes ${target} owner`).toBe(false);
          if (rank(newRole) > rank(actor)) expect(allowed, `${actor} grants ${newRole}`).toBe(false);
          const expected =
            rank(actor) >= rank("admin") &&
            rank(target) < rank(actor) &&
            newRole !== "owner" &&
            rank(newRole) <= rank(actor);
          expect(allowed, `${actor} sets ${target} to ${newRole}`).toBe(expected);
        }
      }
    }
    expect(mayActOnMember("admin", "member", "change_role", "admin")).toBe(true);
    expect(mayActOnMember("owner", "admin", "change_role", "owner")).toBe(false);
    expect(mayActOnMember("admin", "member", "change_role")).toBe(false);
  });

  it("meetsRole compares ranks for a network's required role", () => {
    expect(meetsRole("admin", "moderator")).toBe(true);
    expect(meetsRole("member", "member")).toBe(true);
    expect(meetsRole("member", "admin")).toBe(false);
    expect(meetsRole("none", "member")).toBe(false);
  });
});
