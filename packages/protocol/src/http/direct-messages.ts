import { type Static, Type } from "typebox";
import { UUID_PATTERN } from "../ids.js";
import { Id, Timestamp } from "./common.js";

/**
 * End-to-end encrypted direct messages. The server stores and forwards
 * sealed copies it cannot read: one per X25519 device key of the recipient and of the
 * sender's other devices. The wire contract is docs/protocol.md
 * ("Direct messages"); docs/security.md ("Direct messages") says what the server checks.
 */
export const DM_MAX_COPIES = 64;
/** base64 characters of one copy's ciphertext */
export const DM_CIPHERTEXT_MAX = 65_536;
/** how far a message's sent_at may be from the server's clock */
export const DM_CLOCK_SKEW_MS = 5 * 60_000;
/** pending copies a connecting device gets per page (store-and-forward) */
export const DM_FLUSH_PAGE = 100;
export const DM_PAGE_DEFAULT = 50;
export const DM_PAGE_MAX = 100;

const BASE64_PATTERN = "^[A-Za-z0-9+/]*={0,2}$";
const Base64 = (maxLength: number, description: string) =>
  Type.String({ pattern: BASE64_PATTERN, minLength: 1, maxLength, description });

export const ClientMsgId = Type.String({
  minLength: 1,
  maxLength: 64,
  description: "the sender's own id for the message; a retry with the same one stores nothing new",
});

export const DirectMessageCopy = Type.Object({
  device_key_id: Id,
  enc: Base64(256, "the HPKE encapsulated key, standard base64"),
  ciphertext: Base64(DM_CIPHERTEXT_MAX, "the HPKE ciphertext, standard base64"),
});

/** The fields of dm.send and of POST /v1/messages/direct. */
export const sendDirectMessageFields = {
  to: Id,
  client_msg_id: ClientMsgId,
  sent_at: Type.String({
    format: "date-time",
    description: "the sender's clock, ISO 8601; at most 5 minutes from the server's",
  }),
  copies: Type.Array(DirectMessageCopy, { minItems: 1, maxItems: DM_MAX_COPIES }),
  signature: Type.Optional(
    Type.String({ minLength: 1, maxLength: 200, description: "Ed25519 signature, standard base64" }),
  ),
  signing_key_id: Type.Optional(Id),
};

export const SendDirectMessageBody = Type.Object(sendDirectMessageFields);

export const DirectMessageAccepted = Type.Object({
  id: Id,
  client_msg_id: Type.String(),
  sent_at: Type.String(),
});

export const Verification = Type.Union([
  Type.Literal("verified"),
  Type.Literal("unverified"),
  Type.Literal("unsigned"),
]);
export const CopyStatus = Type.Union([
  Type.Literal("pending"),
  Type.Literal("delivered"),
  Type.Literal("read"),
  Type.Literal("expired"),
]);

/** One message as history gives it: the dm frame's fields plus this copy's status. */
export const DirectMessage = Type.Object({
  id: Id,
  from: Id,
  to: Id,
  sent_at: Type.String(),
  client_msg_id: Type.String(),
  signature: Type.Union([Type.String(), Type.Null()]),
  signing_key_id: Type.Union([Type.String(), Type.Null()]),
  verification: Verification,
  hashes: Type.Array(Type.Tuple([Type.String(), Type.String()]), {
    description: "[device_key_id, base64 SHA-256] of every copy, sorted by device_key_id",
  }),
  copy: DirectMessageCopy,
  status: CopyStatus,
});

export const DirectHistoryQuery = Type.Object({
  with: Id,
  device_key_id: Id,
  before: Type.Optional(
    Type.String({ pattern: UUID_PATTERN, description: "next_cursor of the previous page" }),
  ),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: DM_PAGE_MAX, default: DM_PAGE_DEFAULT })),
});

export const DirectMessageList = Type.Object({
  messages: Type.Array(DirectMessage, { description: "newest first" }),
  next_cursor: Type.Union([Type.String(), Type.Null()], {
    description: "pass as ?before= for older messages; null at the start",
  }),
});

/** A current message key of a device, as stale_device_keys lists them. */
export const DeviceKey = Type.Object({ id: Id, device: Type.String(), public_key: Type.String() });

export const BlockedUser = Type.Object({ user_id: Id, username: Type.String(), created_at: Timestamp });
export const BlockList = Type.Object({ blocks: Type.Array(BlockedUser) });

export type DirectMessageCopy = Static<typeof DirectMessageCopy>;
export type SendDirectMessageBody = Static<typeof SendDirectMessageBody>;
export type DirectMessageAccepted = Static<typeof DirectMessageAccepted>;
export type Verification = Static<typeof Verification>;
export type CopyStatus = Static<typeof CopyStatus>;
export type DirectMessage = Static<typeof DirectMessage>;
export type DirectHistoryQuery = Static<typeof DirectHistoryQuery>;
export type DirectMessageList = Static<typeof DirectMessageList>;
export type DeviceKey = Static<typeof DeviceKey>;
export type BlockedUser = Static<typeof BlockedUser>;
export type BlockList = Static<typeof BlockList>;

/** details of a stale_device_keys error: the keys to seal for instead */
export interface StaleDeviceKeysDetails {
  recipient_keys: DeviceKey[];
  sender_keys: DeviceKey[];
}
