import type { TenantMember } from "@warren/protocol";
import { TENANT_PAGE_DEFAULT } from "@warren/protocol";
import { topics } from "../bus/topics.js";
import { AppError } from "../errors.js";
import { type CommunityRole, mayActOnMember } from "../policy/policy.js";
import { createRepositories } from "../storage/repositories/index.js";
import type { MemberView, Removal } from "../storage/repositories/tenants.js";
import { nowIso, type RequestContext } from "./context.js";
import type { Invites } from "./invites.js";
import { verifyPassword } from "./passwords.js";
import {
  type CommunityEvents,
  createCommunityEvents,
  createTenantAccess,
  cursors,
  type TenantDeps,
  toTenant,
} from "./tenants.js";

export function toMember(m: MemberView): TenantMember {
  return { user: { id: m.user_id, username: m.username }, role: m.role, joined_at: m.joined_at };
}

/** 429 for a user who got a community's password wrong too often (per user and community). */
function tooManyPasswords(err: unknown): AppError {
  const seconds = ((err as AppError).details as { retry_after?: number } | undefined)?.retry_after ?? 60;
  return new AppError(
    "rate_limited",
    `Too many wrong passwords for this community; try again in ${seconds} s`,
    {
      headers: { "retry-after": String(seconds) },
      details: { retry_after: seconds },
    },
  );
}

/**
 * After a removal committed: everyone concerned hears it (the scope's topic and the
 * user's own topic), peers are withdrawn, and only then do the user's sockets leave
 * the community's and its networks' topics, so nothing published later reaches them.
 */
export async function announceRemoval(
  events: CommunityEvents,
  tenantId: string,
  userId: string,
  removal: Removal,
  how: { reason: "left" | "kicked" | "banned"; ban_reason?: string | null; until?: string | null },
  allNetworks: string[],
): Promise<void> {
  const extra =
    how.reason === "banned" ? { ban_reason: how.ban_reason ?? null, until: how.until ?? null } : {};
  if (removal.wasMember) {
    const frame = {
      type: "member.removed" as const,
      tenant_id: tenantId,
      network_id: null,
      user_id: userId,
      reason: how.reason,
      ...extra,
    };
    await events.frame(topics.tenant(tenantId), frame);
    await events.frame(topics.user(userId), frame);
  }
  for (const networkId of removal.networks) {
    await events.frame(topics.network(networkId), {
      type: "member.removed",
      tenant_id: tenantId,
      network_id: networkId,
      user_id: userId,
      reason: how.reason,
      ...extra,
    });
  }
  for (const peer of removal.peers) {
    await events.frame(topics.network(peer.network_id), {
      type: "peer.removed",
      network_id: peer.network_id,
      peer_id: peer.id,
      device_id: peer.device_id,
      user_id: userId,
    });
  }
  await events.unsubscribe(userId, [topics.tenant(tenantId), ...allNetworks.map(topics.network)]);
}

/** Membership of a community: joining, the member list, roles, kick, ban, leave, transfer. */
export function createTenantMembers(deps: TenantDeps & { invites: Invites }) {
  const { db, repos, bus, audit, passwordGuard, invites } = deps;
  const load = createTenantAccess(repos);
  const events = createCommunityEvents(bus);

  const mustBeMember = async (tenantId: string, userId: string): Promise<MemberView> => {
    const m = await repos.tenants.member(tenantId, userId);
    if (!m) throw new AppError("not_found", "That user is not a member of this community");
    return m;
  };

  /** Removes in one transaction (plus the ban, if any), then tells everyone. */
  const remove = async (
    tenantId: string,
    userId: string,
    how: { reason: "left" | "kicked" | "banned"; ban_reason?: string | null; until?: string | null },
    ban?: { by: string; now: string },
  ): Promise<Removal> => {
    const removal = await db.transaction().execute(async (tx) => {
      const r = createRepositories(tx);
      if (ban) {
        await r.tenants.ban({
          tenant_id: tenantId,
          user_id: userId,
          reason: how.ban_reason ?? null,
          until: how.until ?? null,
          by_id: ban.by,
          created_at: ban.now,
        });
      }
      return r.tenants.removeMember(tenantId, userId);
    });
    await announceRemoval(events, tenantId, userId, removal, how, await repos.tenants.networkIds(tenantId));
    return removal;
  };

  return {
    /** POST /tenants/:id/join: open, password, or with an invite code (which always works). */
    async join(
      userId: string,
      tenantId: string,
      body: { password?: string | undefined; invite_code?: string | undefined },
      ctx?: RequestContext,
    ) {
      if (body.invite_code !== undefined) {
        return (await invites.redeem(userId, body.invite_code, ctx, tenantId)).tenant;
      }
      const tenant = await repos.tenants.visibleTo(tenantId, userId);
      if (!tenant) throw new AppError("not_found", "No such community");
      if (tenant.role) throw new AppError("already_member");
      const ban = await repos.tenants.banInForce(tenantId, userId, nowIso());
      if (ban)
        throw new AppError("banned", "You are banned from this community", { details: { until: ban.until } });
      if (tenant.access === "invite_only") {
        throw new AppError("forbidden", "This community takes members by invite only; send invite_code");
      }
      if (tenant.access === "password") {
        const key = `${tenantId}:${userId}`;
        await passwordGuard.check(key, undefined).catch((err: unknown) => {
          throw tooManyPasswords(err);
        });
        if (!body.password || !(await verifyPassword(tenant.password_hash, body.password))) {
          await passwordGuard.fail(key, undefined);
          throw new AppError("invalid_password");
        }
        await passwordGuard.succeed(key);
      }
      const now = nowIso();
      if (!(await repos.tenants.addMember(tenantId, userId, "member", now)))
        throw new AppError("already_member");
      await invites.announceJoin(tenantId, userId, "member");
      await audit.record(
        "member.join",
        { actorId: userId, target: userId, tenantId, details: { via: tenant.access, role: "member" } },
        ctx,
      );
      return toTenant({ ...tenant, role: "member", member_count: tenant.member_count + 1 });
    },

    async list(
      userId: string,
      tenantId: string,
      query: { limit?: number | undefined; cursor?: string | undefined },
    ) {
      await load(tenantId, userId, "view");
      const limit = query.limit ?? TENANT_PAGE_DEFAULT;
      const after = cursors.decode(query.cursor, 2);
      const rows = await repos.tenants.members(tenantId, {
        limit: limit + 1,
        after: after ? { joined_at: after[0] as string, user_id: after[1] as string } : undefined,
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        members: page.map(toMember),
        next_cursor: rows.length > limit && last ? cursors.encode([last.joined_at, last.user_id]) : null,
      };
    },

    async changeRole(
      actorId: string,
      tenantId: string,
      targetId: string,
      role: CommunityRole,
      ctx?: RequestContext,
    ) {
      const { role: actorRole } = await load(tenantId, actorId, "change_role");
      const target = await mustBeMember(tenantId, targetId);
      if (!mayActOnMember(actorRole, target.role, "change_role", role)) {
        throw new AppError(
          "forbidden",
          role === "owner"
            ? "Ownership changes hands only by transfer"
            : "You may change roles only of members below you, and only up to your own role",
        );
      }
      if (target.role !== role) {
        await repos.tenants.setRole(tenantId, targetId, role);
        await events.frame(topics.tenant(tenantId), {
          type: "member.updated",
          tenant_id: tenantId,
          user_id: targetId,
          role,
        });
        await audit.record(
          "member.role",
          { actorId, target: targetId, tenantId, details: { from: target.role, to: role } },
          ctx,
        );
      }
      return toMember({ ...target, role });
    },

    async kick(actorId: string, tenantId: string, targetId: string, ctx?: RequestContext): Promise<void> {
      if (targetId === actorId) return this.leave(actorId, tenantId, ctx);
      const { role } = await load(tenantId, actorId, "kick");
      const target = await mustBeMember(tenantId, targetId);
      if (!mayActOnMember(role, target.role, "kick")) {
        throw new AppError("forbidden", "You may kick only members below your role; the owner never");
      }
      await remove(tenantId, targetId, { reason: "kicked" });
      await audit.record(
        "member.kick",
        { actorId, target: targetId, tenantId, details: { role: target.role } },
        ctx,
      );
    },

    async leave(userId: string, tenantId: string, ctx?: RequestContext): Promise<void> {
      const tenant = await repos.tenants.visibleTo(tenantId, userId);
      if (!tenant?.role) throw new AppError("not_found", "You are not a member of that community");
      if (tenant.role === "owner") throw new AppError("owner_must_transfer");
      await remove(tenantId, userId, { reason: "left" });
      await audit.record("member.leave", { actorId: userId, target: userId, tenantId }, ctx);
    },

    /** Hands the community to another member; the old owner stays on as admin. */
    async transfer(actorId: string, tenantId: string, targetId: string, ctx?: RequestContext) {
      await load(tenantId, actorId, "transfer_ownership");
      if (targetId === actorId) throw new AppError("invalid_request", "You already own this community");
      await mustBeMember(tenantId, targetId);
      await db.transaction().execute(async (tx) => {
        const r = createRepositories(tx);
        await r.tenants.update(tenantId, { owner_id: targetId, updated_at: nowIso() });
        await r.tenants.setRole(tenantId, targetId, "owner");
        await r.tenants.setRole(tenantId, actorId, "admin");
      });
      const topic = topics.tenant(tenantId);
      await events.frame(topic, {
        type: "member.updated",
        tenant_id: tenantId,
        user_id: targetId,
        role: "owner",
      });
      await events.frame(topic, {
        type: "member.updated",
        tenant_id: tenantId,
        user_id: actorId,
        role: "admin",
      });
      await audit.record("member.transfer", { actorId, target: targetId, tenantId }, ctx);
      const tenant = await repos.tenants.visibleTo(tenantId, actorId);
      if (!tenant) throw new AppError("not_found", "No such community");
      return toTenant(tenant);
    },

    /** Bans anyone below the actor, member or not (a troublemaker can be banned before joining). */
    async ban(
      actorId: string,
      tenantId: string,
      body: {
        user_id: string;
        reason?: string | undefined;
        expires_at?: string | undefined;
        duration_seconds?: number | undefined;
      },
      ctx?: RequestContext,
    ) {
      const { role } = await load(tenantId, actorId, "ban");
      const user = await repos.users.byId(body.user_id);
      if (!user) throw new AppError("not_found", "No such user");
      const now = nowIso();
      const until = banEnd(body, Date.now());
      const target = await repos.tenants.member(tenantId, body.user_id);
      if (!mayActOnMember(role, target?.role ?? "none", "ban")) {
        throw new AppError("forbidden", "You may ban only users below your role; the owner never");
      }
      const reason = body.reason ?? null;
      await remove(
        tenantId,
        body.user_id,
        { reason: "banned", ban_reason: reason, until },
        { by: actorId, now },
      );
      await audit.record(
        "member.ban",
        {
          actorId,
          target: body.user_id,
          tenantId,
          details: { reason, until, was_member: target !== undefined },
        },
        ctx,
      );
      return {
        user: { id: user.id, username: user.username },
        reason,
        until,
        by_id: actorId,
        created_at: now,
      };
    },

    async unban(actorId: string, tenantId: string, targetId: string, ctx?: RequestContext): Promise<void> {
      const { role } = await load(tenantId, actorId, "unban");
      if (!mayActOnMember(role, "none", "unban")) throw new AppError("forbidden");
      if (!(await repos.tenants.unban(tenantId, targetId, nowIso()))) {
        throw new AppError("not_found", "That user is not banned here");
      }
      await audit.record("member.unban", { actorId, target: targetId, tenantId }, ctx);
    },

    async bans(actorId: string, tenantId: string) {
      await load(tenantId, actorId, "ban");
      const rows = await repos.tenants.bans(tenantId, nowIso());
      return {
        bans: rows.map((b) => ({
          user: { id: b.user_id, username: b.username },
          reason: b.reason,
          until: b.until,
          by_id: b.by_id,
          created_at: b.created_at,
        })),
      };
    },
  };
}

/** A ban's end: expires_at (future) or now + duration_seconds, or null for good. */
function banEnd(
  body: { expires_at?: string | undefined; duration_seconds?: number | undefined },
  now: number,
): string | null {
  if (body.expires_at !== undefined && body.duration_seconds !== undefined) {
    throw new AppError("invalid_request", "Give expires_at or duration_seconds, not both");
  }
  if (body.duration_seconds !== undefined) return new Date(now + body.duration_seconds * 1000).toISOString();
  if (body.expires_at !== undefined) {
    const at = Date.parse(body.expires_at);
    if (!(at > now))
      throw new AppError("invalid_request", "expires_at must be in the future", {
        details: { field: "expires_at" },
      });
    return new Date(at).toISOString();
  }
  return null;
}

export type TenantMembers = ReturnType<typeof createTenantMembers>;
