import type {
  ClientFrame,
  CommandResultFrame,
  RoomInfo,
  RoomMember,
  ServerFrame,
  VERSION_2_NAMES,
  Version1FrameType,
  WelcomeFrame,
} from "@warren/protocol";
import type { WarrenError } from "../errors.js";

/**
 * The slice of the browser WebSocket API the SDK uses. The browser's WebSocket and
 * the `ws` package's both fit. The handlers take `never` because the SDK only assigns
 * them and never calls them, so any implementation's event types are accepted.
 */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

export interface SocketOptions {
  /** the device id this socket speaks for (?device=); stable ids let to_device signaling find it again */
  device?: string;
  /** default globalThis.WebSocket; in Node 20 pass `WebSocket` from the `ws` package */
  WebSocket?: WebSocketConstructor;
  /** how long request() and a connection's welcome may take (default 10000) */
  requestTimeoutMs?: number;
  /** backoff between reconnects (full jitter); false: never reconnect */
  reconnect?: { minDelayMs?: number; maxDelayMs?: number } | false;
  /** default: the client's baseUrl with http→ws and /v1/ws */
  url?: string;
}

/** The server frame of one "type": a discriminated union member (RelayedFrame covers four types). */
export type FrameOf<K extends ServerFrame["type"]> = ServerFrame extends infer F
  ? F extends { type: infer T }
    ? K extends T
      ? F
      : never
    : never
  : never;

export interface OpenEvent {
  welcome: WelcomeFrame;
  /** true after an automatic reconnect: a cue to reconcile state from REST */
  reconnected: boolean;
  /** remembered rooms that could not be joined again (deleted, banned, full…); they are forgotten */
  lostRooms: { room: string; error: WarrenError }[];
}

export interface CloseEvent {
  code: number;
  reason: string;
  /** false: the socket has stopped for good (close(), 1008, no token, or reconnect off) */
  willReconnect: boolean;
}

/**
 * The version-1 names of renamed frames, for on() until protocol version 3: each hears
 * the frame of its version-2 name (`peer_added` hears `peer.added` frames, whose type is
 * "peer.added").
 * @deprecated listen to the version-2 name
 */
export type Version1Events = { [K in Version1FrameType]: FrameOf<(typeof VERSION_2_NAMES)[K]> };

/**
 * What on() can listen to: every server frame by its (version-2) type, plus the
 * socket's own lifecycle, plus the version-1 names as aliases.
 */
export type SocketEvents = { [K in ServerFrame["type"]]: FrameOf<K> } & Version1Events & {
    open: OpenEvent;
    close: CloseEvent;
    /** every frame that is not the reply to a pending request, before its typed listeners */
    frame: ServerFrame;
  };

export interface RoomResult {
  room: RoomInfo;
  members: RoomMember[];
}

/** What request() resolves with, by the request's type (docs/protocol.md "Client frames"). */
export interface Replies {
  ping: { type: "pong"; re?: string };
  offer: { delivered: boolean };
  answer: { delivered: boolean };
  candidate: { delivered: boolean };
  signal: { delivered: boolean };
  "room.create": RoomResult;
  "room.join": RoomResult;
  subscribe: RoomResult;
  "room.leave": { room: string; left: true };
  unsubscribe: { room: string; left: true };
  "room.rename": { room: RoomInfo };
  "room.kick": { room: string; user: string; until: string };
  "room.delete": { room: string; deleted: true };
  "room.list": { rooms: RoomInfo[] };
  broadcast: { room: string };
  "presence.query": { presence: { user: string; status: "online" | "offline"; last_seen: string | null }[] };
  command: CommandResultFrame;
  // Direct messages (the server's replies, docs/protocol.md "Direct messages")
  "dm.send": { id: string; client_msg_id: string; sent_at: string; duplicate: boolean };
  "dm.ack": { count: number };
  "dm.read": { count: number };
  "dm.fetch": { count: number; more: boolean };
}

export interface WarrenSocket {
  /**
   * Opens the socket and resolves on welcome (after "open"). The first connection is
   * tried once (with one token refresh) and rejects if it fails; after that, drops are
   * reconnected by themselves and connect() waits for the next "open".
   */
  connect(): Promise<WelcomeFrame>;
  /**
   * Sends a frame with an id (one is made up if missing) and resolves with its reply's
   * `result` (the whole frame for ping's pong and command's command.result); rejects
   * with WarrenError: the server's code, "timeout" or "disconnected".
   */
  request<F extends ClientFrame>(frame: F): Promise<Replies[F["type"]]>;
  /** Sends a frame without waiting for anything; throws WarrenError("disconnected") when not connected. */
  send(frame: ClientFrame): void;
  on<K extends keyof SocketEvents>(type: K, handler: (event: SocketEvents[K]) => void): () => void;
  /** Closes for good: no reconnect, pending requests reject. */
  close(): void;
  /** true from "open" until the socket drops */
  readonly connected: boolean;
  /** the latest welcome, if any */
  readonly welcome: WelcomeFrame | undefined;
  /** the rooms joined through this socket, joined again after every reconnect */
  readonly rooms: readonly string[];
}
