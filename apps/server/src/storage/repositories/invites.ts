import type { Kysely, Selectable } from "kysely";
import type { InvitesTable, Schema } from "../schema.js";

export type InviteRow = Selectable<InvitesTable>;

/** Invite codes of a community: counted, expiring, revocable. */
export function createInvitesRepository(db: Kysely<Schema>) {
  return {
    async insert(row: InviteRow): Promise<void> {
      await db.insertInto("invites").values(row).execute();
    },

    async list(tenantId: string): Promise<InviteRow[]> {
      return db
        .selectFrom("invites")
        .selectAll()
        .where("tenant_id", "=", tenantId)
        .orderBy("created_at", "desc")
        .orderBy("id", "desc")
        .execute();
    },

    /** Revokes an invite of this community; false when it has no such invite. */
    async revoke(tenantId: string, id: string, now: string): Promise<boolean> {
      const found = await db
        .selectFrom("invites")
        .select(["revoked_at"])
        .where("tenant_id", "=", tenantId)
        .where("id", "=", id)
        .executeTakeFirst();
      if (!found) return false;
      if (found.revoked_at === null) {
        await db
          .updateTable("invites")
          .set({ revoked_at: now })
          .where("id", "=", id)
          .where("revoked_at", "is", null)
          .execute();
      }
      return true;
    },

    /** The invite with this code if it could still be used at `now`. */
    async usable(code: string, now: string): Promise<InviteRow | undefined> {
      return db
        .selectFrom("invites")
        .selectAll()
        .where("code", "=", code)
        .where("revoked_at", "is", null)
        .where((eb) => eb.or([eb("max_uses", "is", null), eb("uses", "<", eb.ref("max_uses"))]))
        .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]))
        .executeTakeFirst();
    },

    /**
     * Counts one use, if one is left: a single conditional UPDATE, so two people racing
     * for the last use cannot both get it (the database serialises the row). False: used
     * up, expired or revoked meanwhile.
     */
    async consume(id: string, now: string): Promise<boolean> {
      const r = await db
        .updateTable("invites")
        .set((eb) => ({ uses: eb("uses", "+", 1) }))
        .where("id", "=", id)
        .where("revoked_at", "is", null)
        .where((eb) => eb.or([eb("max_uses", "is", null), eb("uses", "<", eb.ref("max_uses"))]))
        .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]))
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    /** A network of this community (an invite may name one), or undefined. */
    async networkOf(tenantId: string, networkId: string) {
      return db
        .selectFrom("networks")
        .select(["id", "required_role"])
        .where("tenant_id", "=", tenantId)
        .where("id", "=", networkId)
        .executeTakeFirst();
    },

    async networkBanInForce(networkId: string, userId: string, now: string): Promise<boolean> {
      const row = await db
        .selectFrom("network_bans")
        .select("user_id")
        .where("network_id", "=", networkId)
        .where("user_id", "=", userId)
        .where((eb) => eb.or([eb("until", "is", null), eb("until", ">", now)]))
        .executeTakeFirst();
      return row !== undefined;
    },

    /**
     * Makes the user an active member of the network (a pending request becomes
     * active). False when they already were active.
     */
    async activateNetworkMember(networkId: string, userId: string, now: string): Promise<boolean> {
      const before = await db
        .selectFrom("network_members")
        .select("status")
        .where("network_id", "=", networkId)
        .where("user_id", "=", userId)
        .executeTakeFirst();
      if (before?.status === "active") return false;
      await db
        .insertInto("network_members")
        .values({ network_id: networkId, user_id: userId, status: "active", joined_at: now })
        .onConflict((oc) =>
          oc.columns(["network_id", "user_id"]).doUpdateSet({ status: "active", joined_at: now }),
        )
        .execute();
      return true;
    },
  };
}

export type InvitesRepository = ReturnType<typeof createInvitesRepository>;
