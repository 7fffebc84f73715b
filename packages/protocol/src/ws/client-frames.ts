import { type Static, Type } from "typebox";
import { Id, NAME_PATTERN } from "../http/common.js";
import { sendDirectMessageFields } from "../http/direct-messages.js";

/**
 * Frames a client sends over /v1/ws: JSON text, tagged on "type". A frame with "id"
 * gets exactly one reply carrying "re": that id. Fields not listed are ignored, so
 * newer clients can talk to older servers.
 */
const FrameId = Type.Optional(Type.String({ minLength: 1, maxLength: 64 }));
const DeviceId = Type.String({ pattern: "^[A-Za-z0-9_.:-]{1,64}$" });
const RoomName = Type.String({ minLength: 1, maxLength: 64, pattern: NAME_PATTERN });
const MessageIds = Type.Array(Id, { minItems: 1, maxItems: 256 });

const frame = <T extends string, P extends Record<string, import("typebox").TSchema>>(type: T, props: P) =>
  Type.Object({ type: Type.Literal(type), id: FrameId, ...props });

export const RELAY_TYPES = ["offer", "answer", "candidate", "signal"] as const;
export type RelayType = (typeof RELAY_TYPES)[number];

/** Signaling: the payload is opaque; the server never looks inside. */
const relayProps = { to: Id, to_device: Type.Optional(DeviceId), payload: Type.Unknown() };

export const ClientFrames = {
  ping: frame("ping", {}),
  offer: frame("offer", relayProps),
  answer: frame("answer", relayProps),
  candidate: frame("candidate", relayProps),
  signal: frame("signal", relayProps),
  "room.create": frame("room.create", {
    name: RoomName,
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    max_members: Type.Optional(Type.Integer({ minimum: 2, maximum: 10_000 })),
    persistent: Type.Optional(Type.Boolean()),
  }),
  "room.join": frame("room.join", { room: Id, password: Type.Optional(Type.String({ maxLength: 256 })) }),
  subscribe: frame("subscribe", { room: Id, password: Type.Optional(Type.String({ maxLength: 256 })) }),
  "room.leave": frame("room.leave", { room: Id }),
  unsubscribe: frame("unsubscribe", { room: Id }),
  "room.rename": frame("room.rename", { room: Id, name: RoomName }),
  "room.kick": frame("room.kick", { room: Id, user: Id }),
  "room.delete": frame("room.delete", { room: Id }),
  "room.list": frame("room.list", {}),
  broadcast: frame("broadcast", { room: Id, payload: Type.Unknown() }),
  "presence.query": frame("presence.query", { users: Type.Array(Id, { maxItems: 256 }) }),
  command: frame("command", {
    name: Type.String({ minLength: 1, maxLength: 64, pattern: NAME_PATTERN }),
    params: Type.Optional(Type.Unknown()),
  }),
  // Direct messages: sealed copies the server stores and forwards.
  "dm.send": frame("dm.send", sendDirectMessageFields),
  "dm.ack": frame("dm.ack", { ids: MessageIds }),
  "dm.read": frame("dm.read", { ids: MessageIds }),
  "dm.fetch": frame("dm.fetch", {}),
} as const;

export type ClientFrameType = keyof typeof ClientFrames;
export type ClientFrame<T extends ClientFrameType = ClientFrameType> = Static<(typeof ClientFrames)[T]>;
