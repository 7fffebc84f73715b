export { type Client, type ClientOptions, createClient } from "./client.js";
export { type Ed25519KeyPair, ed25519FromSecret, generateEd25519, signChallenge } from "./crypto/ed25519.js";
export { type ClientErrorCode, WarrenError } from "./errors.js";
export type { ChannelKind } from "./resources/messages.js";
export type { TenantListQuery } from "./resources/tenants.js";
export { createBackoff } from "./transport/backoff.js";
export { jwtExpiresAt } from "./transport/jwt.js";
export { createSocket, type SocketDeps } from "./transport/socket.js";
export type {
  CloseEvent,
  FrameOf,
  OpenEvent,
  Replies,
  RoomResult,
  SocketEvents,
  SocketOptions,
  WarrenSocket,
  WebSocketConstructor,
  WebSocketLike,
} from "./transport/socket-types.js";
