import { DELETE_ACCOUNT_CONFIRMATION, type DeleteMeBody, type PersonalDataExport } from "@warren/protocol";
import type { Kysely } from "kysely";
import type { Bus } from "../bus/bus.js";
import { topics } from "../bus/topics.js";
import { AppError } from "../errors.js";
import { createRepositories, type Repositories } from "../storage/repositories/index.js";
import type { Schema } from "../storage/schema.js";
import type { Audit } from "./audit.js";
import type { BruteForceGuard } from "./brute-force.js";
import type { RequestContext } from "./context.js";
import { nowIso } from "./context.js";
import { verifyPassword } from "./passwords.js";
import type { Rooms } from "./rooms.js";

function parseDetails(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Data rights (GDPR access and erasure; docs/security.md "Data rights"): a copy of
 * everything the server holds about you, and erasure of your account. Chat messages
 * outlive the account as "deleted user", so the others' conversations stay whole; audit
 * events outlive it too, as the community's record.
 * The username is released with the account row: it names nobody any more.
 */
export function createDataRights(deps: {
  db: Kysely<Schema>;
  repos: Pick<Repositories, "users" | "analytics" | "blocks" | "directMessages" | "personalData">;
  bus: Bus;
  audit: Audit;
  rooms: Rooms;
  guard: BruteForceGuard;
}) {
  const { db, repos, bus, audit, rooms, guard } = deps;

  const frame = (topic: string, f: { type: string } & Record<string, unknown>) =>
    bus.publish(topic, { kind: "frame", frame: JSON.stringify(f), type: f.type });

  /** A stolen access token alone must not be enough: the password, or the typed confirmation. */
  const confirm = async (
    user: { username: string; password_hash: string | null },
    body: DeleteMeBody,
    ctx: RequestContext,
  ) => {
    if (user.password_hash === null) {
      if (body.confirm !== DELETE_ACCOUNT_CONFIRMATION) {
        throw new AppError("invalid_request", `Send confirm: "${DELETE_ACCOUNT_CONFIRMATION}"`, {
          details: { field: "body.confirm" },
        });
      }
      return;
    }
    if (body.password === undefined) {
      throw new AppError("invalid_request", "Send your password to delete this account", {
        details: { field: "body.password" },
      });
    }
    await guard.check(user.username, ctx.ip);
    if (!(await verifyPassword(user.password_hash, body.password))) {
      await guard.fail(user.username, ctx.ip);
      throw new AppError("invalid_password");
    }
  };

  /** Communities the user owns: those with other members block deletion; the rest go with the account. */
  const ownedOrRefuse = async (r: Pick<Repositories, "personalData">, userId: string): Promise<string[]> => {
    const owned = await r.personalData.ownedCommunities(userId);
    const blocking = owned.filter((t) => t.others > 0);
    if (blocking.length > 0) {
      throw new AppError(
        "owner_must_transfer",
        "You own communities with other members: transfer ownership or delete them first",
        { details: { tenants: blocking.map((t) => ({ id: t.id, name: t.name, members: t.others + 1 })) } },
      );
    }
    return owned.map((t) => t.id);
  };

  return {
    async export(userId: string): Promise<PersonalDataExport> {
      const user = await repos.users.byId(userId);
      if (!user) throw new AppError("not_found", "No such user");
      const d = await repos.personalData.collect(userId);
      const dms = await repos.directMessages.ofUser(userId);
      const blocks = await repos.blocks.list(userId);
      const copiesOf = new Map<string, typeof dms.copies>();
      for (const c of dms.copies) {
        const list = copiesOf.get(c.message_id);
        if (list) list.push(c);
        else copiesOf.set(c.message_id, [c]);
      }
      return {
        format: "warren-export-1",
        exported_at: nowIso(),
        profile: {
          id: user.id,
          username: user.username,
          email: user.email,
          display_name: user.display_name,
          has_password: user.password_hash !== null,
          totp_enabled: user.totp_enabled_at !== null,
          totp_enabled_at: user.totp_enabled_at,
          created_at: user.created_at,
          updated_at: user.updated_at,
        },
        public_keys: d.keys,
        sessions: d.sessions,
        devices: d.devices,
        peers: d.peers.map(({ tenant_id: _, ...p }) => p),
        communities: d.communities.map((c) => ({
          tenant_id: c.tenant_id,
          name: c.name,
          role: c.role,
          owner: c.owner_id === userId,
          joined_at: c.joined_at,
        })),
        networks: d.networks,
        bans: d.bans,
        invites: d.invites.map((i) => ({
          ...i,
          max_uses: i.max_uses === null ? null : Number(i.max_uses),
          uses: Number(i.uses),
        })),
        messages: d.messages.map((m) => ({
          id: m.id,
          tenant_id: m.tenant_id,
          network_id: m.network_id,
          content: m.body,
          timestamp: m.created_at,
          edited_at: m.edited_at,
        })),
        rooms: d.rooms.map((r) => ({
          id: r.id,
          name: r.name,
          max_members: Number(r.max_members),
          persistent: Number(r.persistent) === 1,
          has_password: r.password_hash !== null,
          created_at: r.created_at,
          last_activity_at: r.last_activity_at,
        })),
        audit_events: d.audit.map((a) => ({
          id: a.id,
          action: a.action,
          tenant_id: a.tenant_id,
          target: a.target,
          details: parseDetails(a.details),
          ...(a.ip !== null ? { ip: a.ip } : {}),
          created_at: a.created_at,
        })),
        // Metadata only: the ciphertexts are sealed to your devices' keys, and worthless here.
        direct_messages: dms.messages.map((m) => ({
          id: m.id,
          from: m.sender_id,
          to: m.recipient_id,
          client_msg_id: m.client_msg_id,
          sent_at: m.sent_at,
          received_at: m.received_at,
          verification: m.verification,
          copies: (copiesOf.get(m.id) ?? []).map(({ message_id: _, ...c }) => c),
        })),
        blocks: blocks.map((b) => ({ user_id: b.user_id, created_at: b.created_at })),
        hub_sessions: await repos.analytics.sessionsOfUser(userId),
      };
    },

    /**
     * Deletes the account in one transaction, then tells everyone who could see it:
     * peers and memberships leave their networks and communities, and every session's
     * sockets close, on every instance. Events go out after the commit, so nobody hears
     * of a deletion that then failed.
     */
    async deleteAccount(userId: string, body: DeleteMeBody, ctx: RequestContext): Promise<void> {
      const user = await repos.users.byId(userId);
      if (!user) throw new AppError("not_found", "No such user");
      await confirm(user, body, ctx);
      // Checked before anything changes, and again inside the transaction below.
      await ownedOrRefuse(repos, userId);

      // Rooms go through their service so their members hear room.deleted.
      const actor = { userId, username: user.username, signinKey: null };
      for (const roomId of await repos.personalData.ownedRoomIds(userId)) {
        // A room deleted meanwhile is fine: it is gone either way.
        await rooms.delete(actor, roomId).catch(() => undefined);
      }

      const gone = await db.transaction().execute(async (tx) => {
        const r = createRepositories(tx);
        const solo = await ownedOrRefuse(r, userId);
        // What to announce is read inside the transaction, before the rows go.
        const d = await r.personalData.collect(userId);
        await r.personalData.deleteCommunities(solo);
        // Direct messages nobody else holds a copy of go; the rest lose only this user's copies.
        await r.directMessages.forgetUser(userId);
        if (!(await r.personalData.deleteUser(userId))) throw new AppError("not_found", "No such user");
        const deleted = new Set(solo);
        return {
          solo,
          peers: d.peers.filter((p) => !deleted.has(p.tenant_id)),
          communities: d.communities.map((c) => c.tenant_id).filter((id) => !deleted.has(id)),
          networks: d.networks.filter((n) => n.status === "active" && !deleted.has(n.tenant_id)),
          sessions: d.sessions.map((s) => s.id),
        };
      });

      const me = topics.user(userId);
      for (const p of gone.peers) {
        await frame(topics.network(p.network_id), {
          type: "peer.removed",
          network_id: p.network_id,
          peer_id: p.id,
          device_id: p.device_id,
          user_id: userId,
        });
      }
      for (const n of gone.networks) {
        const f = {
          type: "member.removed",
          tenant_id: n.tenant_id,
          network_id: n.network_id,
          user_id: userId,
          reason: "left",
        };
        await frame(topics.network(n.network_id), f);
        await frame(me, f);
      }
      for (const tenantId of gone.communities) {
        const f = {
          type: "member.removed",
          tenant_id: tenantId,
          network_id: null,
          user_id: userId,
          reason: "left",
        };
        await frame(topics.tenant(tenantId), f);
        await frame(me, f);
      }
      await bus.publish(me, {
        kind: "topics.remove",
        topics: [
          ...gone.communities.map(topics.tenant),
          ...gone.solo.map(topics.tenant),
          ...gone.networks.map((n) => topics.network(n.network_id)),
        ],
      });
      for (const session of gone.sessions) await bus.publish(me, { kind: "session.ended", session });

      for (const tenantId of gone.communities) {
        await audit.record(
          "member.leave",
          {
            actorId: userId,
            target: userId,
            tenantId,
            details: { tenant_id: tenantId, reason: "account_deleted" },
          },
          ctx,
        );
      }
      await audit.record(
        "account.delete",
        { actorId: userId, target: userId, details: { communities_deleted: gone.solo } },
        ctx,
      );
    },
  };
}

export type DataRights = ReturnType<typeof createDataRights>;
