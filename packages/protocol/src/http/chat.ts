import { type Static, Type } from "typebox";
import { UUID_PATTERN } from "../ids.js";
import { Id, Timestamp } from "./common.js";

/** Chat bodies are plain text, 1–4000 characters; blank ones are refused. */
export const CHAT_MAX_LENGTH = 4000;
export const CHAT_PAGE_DEFAULT = 50;
export const CHAT_PAGE_MAX = 100;

export const ChatContent = Type.String({
  minLength: 1,
  maxLength: CHAT_MAX_LENGTH,
  description: "plain text, 1–4000 characters, not only whitespace; stored as sent",
});

/** One message of a community channel (network_id null) or of a network's channel. */
export const ChatMessage = Type.Object({
  id: Id,
  tenant_id: Id,
  network_id: Type.Union([Id, Type.Null()]),
  user_id: Type.Union([Id, Type.Null()], { description: "null once the author deleted their account" }),
  username: Type.String({ description: '"deleted user" once the author deleted their account' }),
  content: Type.String(),
  timestamp: Timestamp,
  edited_at: Type.Union([Timestamp, Type.Null()]),
});
export type ChatMessage = Static<typeof ChatMessage>;

export const PostMessageBody = Type.Object({ content: ChatContent });
export const EditMessageBody = Type.Object({ content: ChatContent });

export const ChatListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: CHAT_PAGE_MAX, default: CHAT_PAGE_DEFAULT })),
  before: Type.Optional(
    Type.String({ pattern: UUID_PATTERN, description: "next_cursor of the previous page" }),
  ),
});

export const ChatMessageList = Type.Object({
  messages: Type.Array(ChatMessage, { description: "newest first" }),
  next_cursor: Type.Union([Type.String(), Type.Null()], {
    description: "pass as ?before= for older messages; null at the start",
  }),
});

export type ChatMessageList = Static<typeof ChatMessageList>;
export type ChatListQuery = Static<typeof ChatListQuery>;
