import type { Kysely } from "kysely";
import type { Schema } from "../schema.js";

/**
 * Everything stored about one user, read for GET /v1/me/export, and what deleting the
 * account has to know and remove (GDPR access and erasure). Reads only the caller's own
 * rows.
 */
export function createPersonalDataRepository(db: Kysely<Schema>) {
  return {
    /** Every row that names the user, grouped by what it is. Secrets are selected out here, not later. */
    async collect(userId: string) {
      const [
        keys,
        sessions,
        devices,
        peers,
        communities,
        networks,
        tenantBans,
        networkBans,
        invites,
        messages,
        rooms,
        audit,
      ] = await Promise.all([
        db
          .selectFrom("user_keys")
          .select(["id", "kind", "public_key", "label", "created_at"])
          .where("user_id", "=", userId)
          .orderBy("id")
          .execute(),
        db
          .selectFrom("sessions")
          .select([
            "id",
            "created_at",
            "refreshed_at",
            "expires_at",
            "revoked_at",
            "revoke_reason",
            "signin_key_id",
          ])
          .where("user_id", "=", userId)
          .orderBy("id")
          .execute(),
        db
          .selectFrom("devices")
          .select(["id", "name", "platform", "public_key", "last_seen", "created_at", "updated_at"])
          .where("user_id", "=", userId)
          .orderBy("id")
          .execute(),
        db
          .selectFrom("peers as p")
          .innerJoin("networks as n", "n.id", "p.network_id")
          .select([
            "p.id",
            "p.network_id",
            "n.tenant_id",
            "n.name as network_name",
            "p.device_id",
            "p.address",
            "p.endpoint",
            "p.last_seen",
            "p.created_at",
          ])
          .where("p.user_id", "=", userId)
          .orderBy("p.id")
          .execute(),
        db
          .selectFrom("tenant_members as m")
          .innerJoin("tenants as t", "t.id", "m.tenant_id")
          .select(["m.tenant_id", "t.name", "m.role", "t.owner_id", "m.joined_at"])
          .where("m.user_id", "=", userId)
          .orderBy("m.tenant_id")
          .execute(),
        db
          .selectFrom("network_members as m")
          .innerJoin("networks as n", "n.id", "m.network_id")
          .select(["m.network_id", "n.tenant_id", "n.name", "m.status", "m.joined_at"])
          .where("m.user_id", "=", userId)
          .orderBy("m.network_id")
          .execute(),
        // Who banned you is another person's data: the ban is yours, the moderator's id is not.
        db
          .selectFrom("tenant_bans")
          .select(["tenant_id", "reason", "until", "created_at"])
          .where("user_id", "=", userId)
          .execute(),
        db
          .selectFrom("network_bans as b")
          .innerJoin("networks as n", "n.id", "b.network_id")
          .select(["n.tenant_id", "b.network_id", "b.reason", "b.until", "b.created_at"])
          .where("b.user_id", "=", userId)
          .execute(),
        db
          .selectFrom("invites")
          .select([
            "id",
            "code",
            "tenant_id",
            "network_id",
            "role",
            "max_uses",
            "uses",
            "expires_at",
            "revoked_at",
            "created_at",
          ])
          .where("created_by", "=", userId)
          .orderBy("id")
          .execute(),
        db
          .selectFrom("chat_messages")
          .select(["id", "tenant_id", "network_id", "body", "created_at", "edited_at"])
          .where("user_id", "=", userId)
          .orderBy("id")
          .execute(),
        db
          .selectFrom("rooms")
          .select([
            "id",
            "name",
            "max_members",
            "persistent",
            "password_hash",
            "created_at",
            "last_activity_at",
          ])
          .where("owner_id", "=", userId)
          .orderBy("id")
          .execute(),
        db
          .selectFrom("audit_events")
          .select(["id", "action", "tenant_id", "target", "details", "ip", "created_at"])
          .where("actor_id", "=", userId)
          .orderBy("id")
          .execute(),
      ]);
      return {
        keys,
        sessions,
        devices,
        peers,
        communities,
        networks,
        bans: [...tenantBans.map((b) => ({ ...b, network_id: null })), ...networkBans],
        invites,
        messages,
        rooms,
        audit,
      };
    },

    /** Communities the user owns, with how many other members each has. */
    async ownedCommunities(userId: string): Promise<{ id: string; name: string; others: number }[]> {
      const rows = await db
        .selectFrom("tenants as t")
        .leftJoin("tenant_members as m", (j) =>
          j.onRef("m.tenant_id", "=", "t.id").on("m.user_id", "!=", userId),
        )
        .select(["t.id", "t.name", (eb) => eb.fn.count<string | number>("m.user_id").as("others")])
        .where("t.owner_id", "=", userId)
        .groupBy(["t.id", "t.name"])
        .orderBy("t.id")
        .execute();
      return rows.map((r) => ({ id: r.id, name: r.name, others: Number(r.others) }));
    },

    async ownedRoomIds(userId: string): Promise<string[]> {
      const rows = await db.selectFrom("rooms").select("id").where("owner_id", "=", userId).execute();
      return rows.map((r) => r.id);
    },

    /** Removes communities (everything in them cascades: networks, members, chat, invites). */
    async deleteCommunities(ids: string[]): Promise<void> {
      if (ids.length === 0) return;
      await db.deleteFrom("tenants").where("id", "in", ids).execute();
    },

    /**
     * Removes the account. Keys, sessions and their tokens, devices, peers, memberships,
     * bans, rooms and challenges go with it (ON DELETE CASCADE); chat messages stay with
     * user_id NULL (ON DELETE SET NULL); audit_events have no foreign key and stay.
     */
    async deleteUser(userId: string): Promise<boolean> {
      const r = await db.deleteFrom("users").where("id", "=", userId).executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },
  };
}

export type PersonalDataRepository = ReturnType<typeof createPersonalDataRepository>;
