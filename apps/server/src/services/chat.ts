import {
  CHAT_PAGE_DEFAULT,
  type ChatEventFrame,
  type ChatMessage,
  type ChatMessageList,
  uuidv7,
} from "@warren/protocol";
import type { Bus } from "../bus/bus.js";
import { topics } from "../bus/topics.js";
import { AppError } from "../errors.js";
import { mayInCommunity } from "../policy/policy.js";
import type { Channel, ChatRepository, ChatRowWithAuthor } from "../storage/repositories/chat.js";
import type { UsersRepository } from "../storage/repositories/users.js";
import type { Audit } from "./audit.js";
import { nowIso, type RequestContext } from "./context.js";

/**
 * What a message's author shows as once their account is gone: erasure takes the name,
 * the conversation stays.
 */
export const DELETED_USER = "deleted user";

export function toChatMessage(row: ChatRowWithAuthor): ChatMessage {
  return {
    id: row.id,
    tenant_id: row.tenant_id,
    network_id: row.network_id,
    user_id: row.user_id,
    username: row.user_id === null ? DELETED_USER : (row.username ?? DELETED_USER),
    content: row.body,
    timestamp: row.created_at,
    edited_at: row.edited_at,
  };
}

/** Plain text, kept as sent; only a body of nothing but whitespace is refused. */
function checkContent(content: string): void {
  if (content.trim() === "") {
    throw new AppError("invalid_request", "content must not be empty or only whitespace", {
      details: { field: "body.content" },
    });
  }
}

/** The smallest UUIDv7 of a millisecond: every id made at or after it sorts above. */
const uuidv7Floor = (ms: number): string => {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-000000000000`;
};

const topicOf = (c: Channel) =>
  c.networkId === null ? topics.tenant(c.tenantId) : topics.network(c.networkId);

/**
 * Community and network chat. A message is committed before the 201 answer
 * and only then published, so anything a client was told about is stored
 * (DESIGN.md principle 3). Who may read and post is membership, asked of the policy;
 * a channel the caller is not in answers 404 like one that does not exist.
 */
export function createChat(repo: ChatRepository, users: UsersRepository, bus: Bus, audit: Audit) {
  const emit = (channel: Channel, frame: ChatEventFrame) =>
    bus.publish(topicOf(channel), { kind: "frame", frame: JSON.stringify(frame), type: frame.type });

  /** The channel and the caller's community role; not_found for anything they may not see. */
  const channelOf = async (kind: "tenant" | "network", id: string, userId: string) => {
    if (kind === "tenant") {
      const role = await repo.tenantAccess(id, userId);
      if (!role) throw new AppError("not_found", "No such community");
      return { channel: { tenantId: id, networkId: null }, role };
    }
    const access = await repo.networkAccess(id, userId);
    if (!access) throw new AppError("not_found", "No such network");
    return { channel: { tenantId: access.tenantId, networkId: id }, role: access.role };
  };

  const visible = async (messageId: string, userId: string) => {
    const row = await repo.visible(messageId, userId);
    if (!row) throw new AppError("not_found", "No such message");
    return row;
  };

  return {
    /**
     * The chat.message frames a topic (tenant:<id> or network:<id>) had since `sinceMs`,
     * oldest first, at most `limit`: what sockets missed while Redis was away.
     */
    async missed(topic: string, sinceMs: number, limit: number): Promise<string[]> {
      const [kind, id = ""] = topic.split(":");
      if (kind !== "tenant" && kind !== "network") return [];
      const scope = kind === "tenant" ? { tenantId: id } : { networkId: id };
      const rows = await repo.after(scope, uuidv7Floor(sinceMs), limit);
      return rows.map((row) => JSON.stringify({ type: "chat.message", data: toChatMessage(row) }));
    },

    async post(
      kind: "tenant" | "network",
      id: string,
      userId: string,
      content: string,
    ): Promise<ChatMessage> {
      checkContent(content);
      const { channel, role } = await channelOf(kind, id, userId);
      if (!mayInCommunity(role, "post_message")) throw new AppError("forbidden", "You may not post here");
      const author = await users.byId(userId);
      if (!author) throw new AppError("not_found", "No such user");
      const row = {
        id: uuidv7(),
        tenant_id: channel.tenantId,
        network_id: channel.networkId,
        user_id: userId,
        body: content,
        created_at: nowIso(),
        edited_at: null,
      };
      await repo.insert(row);
      const message = toChatMessage({ ...row, username: author.username });
      await emit(channel, { type: "chat.message", data: message });
      return message;
    },

    async list(
      kind: "tenant" | "network",
      id: string,
      userId: string,
      query: { limit?: number | undefined; before?: string | undefined },
    ): Promise<ChatMessageList> {
      const { channel } = await channelOf(kind, id, userId);
      const limit = query.limit ?? CHAT_PAGE_DEFAULT;
      // One row more than asked tells whether an older page exists.
      const rows = await repo.page(channel, limit + 1, query.before);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        messages: page.map(toChatMessage),
        next_cursor: rows.length > limit && last ? last.id : null,
      };
    },

    /** Authors edit their own messages; anyone else who can see it gets 403. */
    async edit(messageId: string, userId: string, content: string): Promise<ChatMessage> {
      checkContent(content);
      const row = await visible(messageId, userId);
      if (row.user_id !== userId) throw new AppError("forbidden", "Only the author may edit a message");
      const at = nowIso();
      if (!(await repo.edit(messageId, content, at))) throw new AppError("not_found", "No such message");
      const message = toChatMessage({ ...row, body: content, edited_at: at });
      await emit(
        { tenantId: row.tenant_id, networkId: row.network_id },
        { type: "chat.message_updated", data: message },
      );
      return message;
    },

    /** Authors delete their own; moderators and above anyone's (policy delete_any_message). */
    async delete(messageId: string, userId: string, ctx: RequestContext): Promise<void> {
      const row = await visible(messageId, userId);
      const own = row.user_id === userId;
      if (!own && !mayInCommunity(row.viewer_role, "delete_any_message")) {
        throw new AppError("forbidden", "Only the author or a moderator may delete a message");
      }
      // Two deletes racing: the one that removed the row tells the others.
      if (!(await repo.delete(messageId))) throw new AppError("not_found", "No such message");
      const channel = { tenantId: row.tenant_id, networkId: row.network_id };
      await emit(channel, {
        type: "chat.message_deleted",
        data: { id: row.id, tenant_id: row.tenant_id, network_id: row.network_id },
      });
      // Moderation is what a community's audit log is for; people tidying their own words are not.
      if (!own) {
        await audit.record(
          "chat.delete",
          {
            actorId: userId,
            target: row.id,
            tenantId: row.tenant_id,
            details: { tenant_id: row.tenant_id, network_id: row.network_id, author_id: row.user_id },
          },
          ctx,
        );
      }
    },
  };
}

export type Chat = ReturnType<typeof createChat>;
