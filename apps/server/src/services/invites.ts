import { randomBytes } from "node:crypto";
import type { Tenant } from "@warren/protocol";
import { uuidv7 } from "@warren/protocol";
import { topics } from "../bus/topics.js";
import { systemClock } from "../clock.js";
import { AppError } from "../errors.js";
import { type CommunityRole, meetsRole, rank } from "../policy/policy.js";
import { createRepositories } from "../storage/repositories/index.js";
import type { InviteRow } from "../storage/repositories/invites.js";
import type { TenantRole } from "../storage/schema.js";
import { nowIso, type RequestContext } from "./context.js";
import { createCommunityEvents, createTenantAccess, type TenantDeps, toTenant } from "./tenants.js";

export function toInvite(row: InviteRow) {
  return {
    id: row.id,
    code: row.code,
    tenant_id: row.tenant_id,
    network_id: row.network_id,
    // invites are made with member, moderator or admin only (ownership goes by transfer)
    role: (row.role ?? "member") as "member" | "moderator" | "admin",
    max_uses: row.max_uses === null ? null : Number(row.max_uses),
    uses: Number(row.uses),
    expires_at: row.expires_at,
    revoked_at: row.revoked_at,
    created_by: row.created_by,
    created_at: row.created_at,
  };
}

/**
 * 18 random bytes (144 bits): a 24-character base64url code, not guessable. Never
 * starting with "-": a code is pasted into command lines (`warren join <code>`), where a
 * leading dash reads as an option (1 code in 64).
 */
export const newCode = (): string => {
  for (;;) {
    const code = randomBytes(18).toString("base64url");
    if (!code.startsWith("-")) return code;
  }
};

const invalidInvite = () => new AppError("invalid_invite");

/** Invites of a community: create, list, revoke, and redeem (which joins). */
export function createInvites({ db, repos, bus, audit, clock = systemClock }: TenantDeps) {
  const load = createTenantAccess(repos);
  const events = createCommunityEvents(bus);

  /** A new member's sockets get the community's events at once, and the members hear of them. */
  const announceJoin = async (tenantId: string, userId: string, role: TenantRole) => {
    const user = await repos.users.byId(userId);
    await events.subscribe(userId, [topics.tenant(tenantId)]);
    await events.frame(topics.tenant(tenantId), {
      type: "member.joined",
      tenant_id: tenantId,
      network_id: null,
      user: { id: userId, username: user?.username ?? "" },
      role,
    });
  };

  const announceNetworkJoin = async (tenantId: string, networkId: string, userId: string) => {
    const user = await repos.users.byId(userId);
    await events.subscribe(userId, [topics.network(networkId)]);
    await events.frame(topics.network(networkId), {
      type: "member.joined",
      tenant_id: tenantId,
      network_id: networkId,
      user: { id: userId, username: user?.username ?? "" },
      status: "active",
    });
  };

  return {
    announceJoin,

    async create(
      actorId: string,
      tenantId: string,
      body: {
        max_uses?: number | undefined;
        expires_in_seconds?: number | undefined;
        expires_at?: string | undefined;
        role?: "member" | "moderator" | "admin" | undefined;
        network_id?: string | undefined;
      },
      ctx?: RequestContext,
    ) {
      const { role: actorRole } = await load(tenantId, actorId, "invite");
      const role = body.role ?? "member";
      // Nobody grants a role above their own, by invite either.
      if (rank(role) > rank(actorRole)) {
        throw new AppError("forbidden", `You may not invite with a role above your own (${actorRole})`);
      }
      if (body.network_id !== undefined && !(await repos.invites.networkOf(tenantId, body.network_id))) {
        throw new AppError("not_found", "No such network in this community");
      }
      if (body.expires_at !== undefined && body.expires_in_seconds !== undefined) {
        throw new AppError("invalid_request", "Give expires_at or expires_in_seconds, not both");
      }
      let expiresAt: string | null = null;
      if (body.expires_in_seconds !== undefined) {
        expiresAt = new Date(clock.now() + body.expires_in_seconds * 1000).toISOString();
      } else if (body.expires_at !== undefined) {
        const at = Date.parse(body.expires_at);
        if (!(at > clock.now())) {
          throw new AppError("invalid_request", "expires_at must be in the future", {
            details: { field: "expires_at" },
          });
        }
        expiresAt = new Date(at).toISOString();
      }
      const row: InviteRow = {
        id: uuidv7(),
        code: newCode(),
        tenant_id: tenantId,
        network_id: body.network_id ?? null,
        role,
        max_uses: body.max_uses ?? null,
        uses: 0,
        expires_at: expiresAt,
        revoked_at: null,
        created_by: actorId,
        created_at: nowIso(clock.now()),
      };
      await repos.invites.insert(row);
      await audit.record(
        "invite.create",
        {
          actorId,
          target: row.id,
          tenantId,
          details: { role, network_id: row.network_id, max_uses: row.max_uses, expires_at: expiresAt },
        },
        ctx,
      );
      return toInvite(row);
    },

    async list(actorId: string, tenantId: string) {
      await load(tenantId, actorId, "invite");
      return { invites: (await repos.invites.list(tenantId)).map(toInvite) };
    },

    async revoke(actorId: string, tenantId: string, inviteId: string, ctx?: RequestContext): Promise<void> {
      await load(tenantId, actorId, "revoke_invite");
      if (!(await repos.invites.revoke(tenantId, inviteId, nowIso(clock.now())))) {
        throw new AppError("not_found", "No such invite in this community");
      }
      await audit.record("invite.revoke", { actorId, target: inviteId, tenantId }, ctx);
    },

    /**
     * Joins with an invite: its community, and its network if it names one. The use is
     * counted by one conditional UPDATE in the same transaction as the membership, so
     * of two people racing for the last use exactly one gets in, and a refused join
     * (already a member) gives the use back. `onlyTenant`: the code must be for this
     * community (POST /tenants/:id/join); otherwise it answers 404 like any bad code.
     */
    async redeem(
      userId: string,
      code: string,
      ctx?: RequestContext,
      onlyTenant?: string,
    ): Promise<{ tenant: Tenant; network_id: string | null; role: CommunityRole }> {
      const now = nowIso(clock.now());
      const invite = await repos.invites.usable(code, now);
      if (!invite || (onlyTenant !== undefined && invite.tenant_id !== onlyTenant)) {
        // Joining a community the caller may not see: the same 404 as a missing one.
        if (onlyTenant !== undefined && !(await repos.tenants.visibleTo(onlyTenant, userId))) {
          throw new AppError("not_found", "No such community");
        }
        throw invalidInvite();
      }
      const tenantId = invite.tenant_id;
      const before = await repos.tenants.byIdFor(tenantId, userId);
      if (!before) throw invalidInvite();
      const ban = await repos.tenants.banInForce(tenantId, userId, now);
      if (ban)
        throw new AppError("banned", "You are banned from this community", { details: { until: ban.until } });
      const role: CommunityRole = before.role ?? invite.role ?? "member";
      const networkId = invite.network_id;
      if (networkId !== null) {
        const network = await repos.invites.networkOf(tenantId, networkId);
        if (!network) throw invalidInvite();
        if (await repos.invites.networkBanInForce(networkId, userId, now)) {
          throw new AppError("banned", "You are banned from this network");
        }
        if (!meetsRole(role, network.required_role)) {
          throw new AppError("forbidden", `This network is for ${network.required_role}s and above`);
        }
      }
      const joined = await db.transaction().execute(async (tx) => {
        const r = createRepositories(tx);
        if (!(await r.invites.consume(invite.id, now))) throw invalidInvite();
        const tenant = await r.tenants.addMember(tenantId, userId, role, now);
        const network = networkId !== null && (await r.invites.activateNetworkMember(networkId, userId, now));
        // Nothing new for this user: the throw rolls the use back.
        if (!tenant && !network) throw new AppError("already_member");
        return { tenant, network };
      });
      if (joined.tenant) await announceJoin(tenantId, userId, role);
      if (joined.network && networkId !== null) await announceNetworkJoin(tenantId, networkId, userId);
      await audit.record(
        "invite.use",
        { actorId: userId, target: invite.id, tenantId, details: { network_id: networkId } },
        ctx,
      );
      if (joined.tenant) {
        await audit.record(
          "member.join",
          {
            actorId: userId,
            target: userId,
            tenantId,
            details: { via: "invite", invite_id: invite.id, role },
          },
          ctx,
        );
      }
      if (joined.network) {
        await audit.record(
          "network.member_join",
          { actorId: userId, target: userId, tenantId, details: { network_id: networkId, via: "invite" } },
          ctx,
        );
      }
      const after = await repos.tenants.byIdFor(tenantId, userId);
      return { tenant: toTenant(after ?? before), network_id: networkId, role };
    },
  };
}

export type Invites = ReturnType<typeof createInvites>;
