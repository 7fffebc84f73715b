import type { ChatListQuery, ChatMessage, ChatMessageList } from "@warren/protocol";
import type { Http } from "../transport/http.js";
import { path, withQuery } from "./path.js";

/** Whose channel: a community's ("tenant") or one of its networks'. */
export type ChannelKind = "tenant" | "network";

/** Community and network chat. Messages by id live at /v1/messages/:id whatever their channel. */
export function messagesResource(http: Http) {
  const channel = (kind: ChannelKind, id: string) =>
    kind === "tenant" ? path`/v1/tenants/${id}/messages` : path`/v1/networks/${id}/messages`;
  const one = (messageId: string) => path`/v1/messages/${messageId}`;
  return {
    /** Newest first; pass next_cursor as `before` for older ones. */
    list: (kind: ChannelKind, id: string, query: ChatListQuery = {}) =>
      http<ChatMessageList>("GET", withQuery(channel(kind, id), query)),
    send: (kind: ChannelKind, id: string, content: string) =>
      http<ChatMessage>("POST", channel(kind, id), { content }),
    edit: (messageId: string, content: string) => http<ChatMessage>("PATCH", one(messageId), { content }),
    remove: (messageId: string) => http<void>("DELETE", one(messageId)),
  };
}
