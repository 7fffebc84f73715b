import type { JoinStatus, NetworkBan, NetworkMember } from "@warren/protocol";
import { topics } from "../bus/topics.js";
import { AppError } from "../errors.js";
import { mayActOnMember, mayInCommunity, mayViewNetwork, meetsRole } from "../policy/policy.js";
import { createNetworksRepository, type NetworkView } from "../storage/repositories/networks.js";
import { createPeersRepository, type PeerView } from "../storage/repositories/peers.js";
import { isoAfter, nowIso, type RequestContext } from "./context.js";
import { createNetworkAccess, createNetworkEvents, type NetworkDeps } from "./networks.js";

type Member = NetworkMember;
type Ban = NetworkBan;

export interface BanFields {
  user_id: string;
  reason?: string | undefined;
  expires_at?: string | undefined;
  duration_seconds?: number | undefined;
}

function banEnd(body: BanFields): string | null {
  if (body.expires_at !== undefined && body.duration_seconds !== undefined) {
    throw new AppError("invalid_request", "Give expires_at or duration_seconds, not both", {
      details: { fields: ["expires_at", "duration_seconds"] },
    });
  }
  if (body.duration_seconds !== undefined) return isoAfter(body.duration_seconds * 1000);
  if (body.expires_at !== undefined) {
    const at = Date.parse(body.expires_at);
    if (Number.isNaN(at) || at <= Date.now()) {
      throw new AppError("invalid_request", "expires_at must be in the future", {
        details: { field: "expires_at" },
      });
    }
    return new Date(at).toISOString();
  }
  return null;
}

/**
 * Who is in a network: joining under each join policy, requests and their approval,
 * kicks, bans and leaving. Removal deletes the membership and the user's
 * peers in one transaction; only after it commits are members told.
 */
export function createNetworkMembers({ db, repos, bus, audit }: NetworkDeps) {
  const load = createNetworkAccess(repos);
  const events = createNetworkEvents(bus);

  const userRef = async (userId: string) => {
    const user = await repos.users.byId(userId);
    return { id: userId, username: user?.username ?? "" };
  };

  /** The target's community role; a user outside the community is not found. */
  const targetRole = async (view: NetworkView, userId: string) => {
    const role = await repos.memberships.tenantRole(view.tenant_id, userId);
    if (!role) throw new AppError("not_found", "That user is not a member of this community");
    return role;
  };

  const admitted = async (view: NetworkView, userId: string, status: "active" | "pending") => {
    const user = await userRef(userId);
    if (status === "active") {
      await events.subscribe(userId, view.id);
      await events.frame(topics.network(view.id), {
        type: "member.joined",
        tenant_id: view.tenant_id,
        network_id: view.id,
        user,
        status: "active",
      });
    } else {
      // Join requests are for those who may see the network and answer them, not for every member.
      const frame = { type: "join.request" as const, tenant_id: view.tenant_id, network_id: view.id, user };
      for (const m of await repos.networks.moderators(view.id)) {
        if (mayViewNetwork(m.role, view, m.status) && mayInCommunity(m.role, "approve_join")) {
          await events.frame(topics.user(m.user_id), frame);
        }
      }
    }
  };

  /**
   * Deletes the membership (and, for a ban, records it) and the user's peers in one
   * transaction; then tells the network and the user, and takes the user's sockets off
   * the network's topic. Undefined when the user had no membership.
   */
  const remove = async (
    view: NetworkView,
    userId: string,
    reason: "left" | "kicked" | "banned",
    ban?: { reason: string | null; until: string | null; by: string },
  ): Promise<{ peers: PeerView[] } | undefined> => {
    const now = nowIso();
    const result = await db.transaction().execute(async (tx) => {
      const networks = createNetworksRepository(tx);
      const peerRepo = createPeersRepository(tx);
      if (ban) {
        await networks.ban({
          network_id: view.id,
          user_id: userId,
          reason: ban.reason,
          until: ban.until,
          by_id: ban.by,
          created_at: now,
        });
      }
      const status = await networks.status(view.id, userId);
      if (!status) return undefined;
      const peers = await peerRepo.ofUser(view.id, userId);
      await peerRepo.deleteOfUser(view.id, userId);
      await networks.removeMember(view.id, userId);
      return { peers, status };
    });
    if (!result) return undefined;
    const frame = {
      type: "member.removed" as const,
      tenant_id: view.tenant_id,
      network_id: view.id,
      user_id: userId,
      reason,
      ...(ban ? { ban_reason: ban.reason, until: ban.until } : {}),
    };
    // A pending request was never news to the members; only the user hears of it.
    if (result.status === "active") await events.frame(topics.network(view.id), frame);
    await events.frame(topics.user(userId), frame);
    for (const peer of result.peers) {
      await events.frame(topics.network(view.id), {
        type: "peer.removed",
        network_id: view.id,
        peer_id: peer.id,
        device_id: peer.device_id,
        user_id: peer.user_id,
      });
    }
    if (result.status === "active") await events.unsubscribe(userId, view.id);
    return { peers: result.peers };
  };

  const audited = (
    action: string,
    actor: string,
    view: NetworkView,
    target: string,
    details = {},
    ctx?: RequestContext,
  ) =>
    audit.record(
      `network.${action}`,
      { actorId: actor, target, tenantId: view.tenant_id, details: { network_id: view.id, ...details } },
      ctx,
    );

  return {
    async join(userId: string, networkId: string, ctx?: RequestContext): Promise<JoinStatus> {
      const view = await load(networkId, userId);
      if (!meetsRole(view.role, view.required_role)) {
        throw new AppError("forbidden", `This network is for ${view.required_role}s and above`);
      }
      const ban = await repos.networks.banInForce(networkId, userId, nowIso());
      if (ban)
        throw new AppError("banned", "You are banned from this network", { details: { until: ban.until } });
      if (view.my_status)
        throw new AppError(
          "already_member",
          view.my_status === "pending" ? "Your request is already waiting" : undefined,
        );
      if (view.join_policy === "invite") {
        throw new AppError("forbidden", "This network takes members by invite only");
      }
      const status = view.join_policy === "open" ? "active" : "pending";
      if (!(await repos.networks.addMember(networkId, userId, status, nowIso())))
        throw new AppError("already_member");
      await admitted(view, userId, status);
      await audited(status === "active" ? "join" : "request", userId, view, userId, {}, ctx);
      return { network_id: networkId, status };
    },

    async members(userId: string, networkId: string): Promise<{ members: Member[] }> {
      const view = await load(networkId, userId);
      const rows = await repos.networks.members(networkId, mayInCommunity(view.role, "approve_join"));
      return {
        members: rows.map((m) => ({
          user: { id: m.user_id, username: m.username },
          role: m.role,
          status: m.status,
          joined_at: m.joined_at,
        })),
      };
    },

    /** Approves a pending request, or (moderators adding someone directly) admits a community member. */
    async approve(
      userId: string,
      networkId: string,
      targetId: string,
      ctx?: RequestContext,
    ): Promise<Member> {
      const view = await load(networkId, userId, "approve_join");
      const role = await targetRole(view, targetId);
      if (!meetsRole(role, view.required_role)) {
        throw new AppError(
          "forbidden",
          `This network is for ${view.required_role}s and above; that user is a ${role}`,
        );
      }
      const ban = await repos.networks.banInForce(networkId, targetId, nowIso());
      if (ban)
        throw new AppError("banned", "That user is banned from this network; lift the ban first", {
          details: { until: ban.until },
        });
      const now = nowIso();
      const activated =
        (await repos.networks.activate(networkId, targetId, now)) ||
        (await repos.networks.addMember(networkId, targetId, "active", now));
      if (!activated) throw new AppError("already_member", "That user is already a member of this network");
      await admitted(view, targetId, "active");
      await audited("approve", userId, view, targetId, {}, ctx);
      const user = await userRef(targetId);
      return { user, role, status: "active", joined_at: now };
    },

    async deny(userId: string, networkId: string, targetId: string, ctx?: RequestContext): Promise<void> {
      const view = await load(networkId, userId, "approve_join");
      if (!(await repos.networks.removeMember(networkId, targetId, "pending"))) {
        throw new AppError("not_found", "No pending request from that user");
      }
      await events.frame(topics.user(targetId), {
        type: "join.denied",
        tenant_id: view.tenant_id,
        network_id: networkId,
      });
      await audited("deny", userId, view, targetId, {}, ctx);
    },

    async kick(userId: string, networkId: string, targetId: string, ctx?: RequestContext): Promise<void> {
      const view = await load(networkId, userId, "network_kick");
      const role = await targetRole(view, targetId);
      if (!mayActOnMember(view.role, role, "network_kick")) {
        throw new AppError(
          "forbidden",
          targetId === userId ? "Leave instead of kicking yourself" : `A ${view.role} may not kick a ${role}`,
        );
      }
      if (!(await remove(view, targetId, "kicked")))
        throw new AppError("not_found", "That user is not a member of this network");
      await audited("kick", userId, view, targetId, {}, ctx);
    },

    async ban(userId: string, networkId: string, body: BanFields, ctx?: RequestContext): Promise<Ban> {
      const view = await load(networkId, userId, "network_ban");
      const role = await targetRole(view, body.user_id);
      if (!mayActOnMember(view.role, role, "network_ban")) {
        throw new AppError(
          "forbidden",
          body.user_id === userId ? "You cannot ban yourself" : `A ${view.role} may not ban a ${role}`,
        );
      }
      const until = banEnd(body);
      const reason = body.reason ?? null;
      await remove(view, body.user_id, "banned", { reason, until, by: userId });
      await audited("ban", userId, view, body.user_id, { reason, until }, ctx);
      const row = await repos.networks.banInForce(networkId, body.user_id, nowIso());
      return {
        network_id: networkId,
        user_id: body.user_id,
        reason,
        until,
        by_id: userId,
        created_at: row?.created_at ?? nowIso(),
      };
    },

    /** Bans in force (moderators and above, like banning). */
    async bans(userId: string, networkId: string): Promise<{ bans: Ban[] }> {
      await load(networkId, userId, "network_ban");
      const rows = await repos.networks.bansInForce(networkId, nowIso());
      return {
        bans: rows.map(({ network_id, user_id, reason, until, by_id, created_at }) => ({
          network_id,
          user_id,
          reason,
          until,
          by_id,
          created_at,
        })),
      };
    },

    async unban(userId: string, networkId: string, targetId: string, ctx?: RequestContext): Promise<void> {
      const view = await load(networkId, userId, "network_ban");
      if (!(await repos.networks.unban(networkId, targetId)))
        throw new AppError("not_found", "That user is not banned here");
      await audited("unban", userId, view, targetId, {}, ctx);
    },

    async leave(userId: string, networkId: string, ctx?: RequestContext): Promise<void> {
      const view = await load(networkId, userId);
      if (!(await remove(view, userId, "left")))
        throw new AppError("not_found", "You are not a member of this network");
      await audited("leave", userId, view, userId, {}, ctx);
    },
  };
}

export type NetworkMembers = ReturnType<typeof createNetworkMembers>;
