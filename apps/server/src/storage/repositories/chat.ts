import type { Kysely, Selectable } from "kysely";
import type { ChatMessagesTable, Schema, TenantRole } from "../schema.js";

export type ChatRow = Selectable<ChatMessagesTable>;
/** A message with its author's current username (null: the account is gone). */
export type ChatRowWithAuthor = ChatRow & { username: string | null };

/** A channel: a community's (network null) or one of its networks'. */
export interface Channel {
  tenantId: string;
  networkId: string | null;
}

/**
 * Chat messages and the access facts chat needs. Every lookup that takes an id from a
 * client is joined with the caller's membership, so "does not exist" and "not yours to
 * see" are one query with one answer (tenant isolation).
 */
export function createChatRepository(db: Kysely<Schema>) {
  return {
    async insert(row: ChatRow): Promise<void> {
      await db.insertInto("chat_messages").values(row).execute();
    },

    /** The caller's role in a community, or undefined when they are not a member. */
    async tenantAccess(tenantId: string, userId: string): Promise<TenantRole | undefined> {
      const row = await db
        .selectFrom("tenant_members")
        .select("role")
        .where("tenant_id", "=", tenantId)
        .where("user_id", "=", userId)
        .executeTakeFirst();
      return row?.role;
    },

    /**
     * A network's community and the caller's role there, only when the caller is an
     * active member of the network and still a member of its community.
     */
    async networkAccess(
      networkId: string,
      userId: string,
    ): Promise<{ tenantId: string; role: TenantRole } | undefined> {
      const row = await db
        .selectFrom("networks as n")
        .innerJoin("network_members as nm", (j) =>
          j.onRef("nm.network_id", "=", "n.id").on("nm.user_id", "=", userId).on("nm.status", "=", "active"),
        )
        .innerJoin("tenant_members as tm", (j) =>
          j.onRef("tm.tenant_id", "=", "n.tenant_id").on("tm.user_id", "=", userId),
        )
        .select(["n.tenant_id", "tm.role"])
        .where("n.id", "=", networkId)
        .executeTakeFirst();
      return row ? { tenantId: row.tenant_id, role: row.role } : undefined;
    },

    /**
     * A message the caller may see (member of its community, and an active member of
     * its network for a network channel), with the caller's community role; undefined
     * for a message that does not exist or that they may not see.
     */
    async visible(
      messageId: string,
      userId: string,
    ): Promise<(ChatRowWithAuthor & { viewer_role: TenantRole }) | undefined> {
      const row = await db
        .selectFrom("chat_messages as m")
        .innerJoin("tenant_members as tm", (j) =>
          j.onRef("tm.tenant_id", "=", "m.tenant_id").on("tm.user_id", "=", userId),
        )
        .leftJoin("network_members as nm", (j) =>
          j
            .onRef("nm.network_id", "=", "m.network_id")
            .on("nm.user_id", "=", userId)
            .on("nm.status", "=", "active"),
        )
        .leftJoin("users as u", "u.id", "m.user_id")
        .selectAll("m")
        .select(["tm.role as viewer_role", "u.username as username"])
        .where("m.id", "=", messageId)
        .where((eb) => eb.or([eb("m.network_id", "is", null), eb("nm.user_id", "is not", null)]))
        .executeTakeFirst();
      return row;
    },

    /**
     * A community's (network null) or a network's messages strictly newer than `after`,
     * oldest first (an id: UUIDv7 ids sort by time).
     */
    async after(
      scope: { tenantId: string } | { networkId: string },
      after: string,
      limit: number,
    ): Promise<ChatRowWithAuthor[]> {
      let q = db
        .selectFrom("chat_messages as m")
        .leftJoin("users as u", "u.id", "m.user_id")
        .selectAll("m")
        .select("u.username as username")
        .where("m.id", ">", after);
      q =
        "networkId" in scope
          ? q.where("m.network_id", "=", scope.networkId)
          : q.where("m.tenant_id", "=", scope.tenantId).where("m.network_id", "is", null);
      return q.orderBy("m.id", "asc").limit(limit).execute();
    },

    /** Newest first, strictly older than `before` (an id: UUIDv7 ids sort by time). */
    async page(channel: Channel, limit: number, before?: string): Promise<ChatRowWithAuthor[]> {
      let q = db
        .selectFrom("chat_messages as m")
        .leftJoin("users as u", "u.id", "m.user_id")
        .selectAll("m")
        .select("u.username as username")
        .where("m.tenant_id", "=", channel.tenantId);
      q =
        channel.networkId === null
          ? q.where("m.network_id", "is", null)
          : q.where("m.network_id", "=", channel.networkId);
      if (before !== undefined) q = q.where("m.id", "<", before);
      return q.orderBy("m.id", "desc").limit(limit).execute();
    },

    async edit(id: string, body: string, at: string): Promise<boolean> {
      const r = await db
        .updateTable("chat_messages")
        .set({ body, edited_at: at })
        .where("id", "=", id)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    async delete(id: string): Promise<boolean> {
      const r = await db.deleteFrom("chat_messages").where("id", "=", id).executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },
  };
}

export type ChatRepository = ReturnType<typeof createChatRepository>;
