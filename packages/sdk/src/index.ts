export { type Client, type ClientOptions, createClient } from "./client.js";
export {
  type Ed25519KeyPair,
  ed25519FromSecret,
  generateEd25519,
  signChallenge,
  signEd25519,
  verifyEd25519,
} from "./crypto/ed25519.js";
export {
  type CopyHash,
  copyHash,
  DM_VERSION,
  type EnvelopeFields,
  type SealedCopy,
  signEnvelope,
  signedBytes,
  verifyCopies,
  verifyEnvelope,
} from "./crypto/envelope.js";
export {
  generateX25519,
  open,
  type Sealed,
  seal,
  type X25519KeyPair,
  x25519FromSecret,
} from "./crypto/hpke.js";
export {
  generateWireGuardKeys,
  type WireGuardKeyPair,
  wgQuickFile,
} from "./crypto/wireguard.js";
export { type ClientErrorCode, WarrenError } from "./errors.js";
export { createDirect, type DirectMessages } from "./messaging/direct.js";
export { createMemoryKeyStore, type KeyStore } from "./messaging/key-store.js";
export type {
  DeviceKey,
  DirectDevice,
  DirectErrorEvent,
  DirectEvents,
  DirectMessage,
  KeyChangeEvent,
  SendResult,
  SetupOptions,
  StatusEvent,
} from "./messaging/types.js";
export type { NewPublicKey, TotpSetup } from "./resources/account.js";
export type { AnalyticsSummary, DailyUsers, DayRange, MessageStats } from "./resources/analytics.js";
export type { AuditEvent, AuditQuery } from "./resources/audit.js";
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
  Version1Events,
  WarrenSocket,
  WebSocketConstructor,
  WebSocketLike,
} from "./transport/socket-types.js";
