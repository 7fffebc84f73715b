import { version1Text, type WelcomeFrame } from "@warren/protocol";
import { type RawData, WebSocket } from "ws";
import type { HubConfig } from "../config.js";
import { isoOf } from "../days.js";

/** Where a socket is in its device's pending direct messages. */
export interface DmPaging {
  /** the device's message key the pages were for */
  key: string;
  /** the last message id sent in a page */
  cursor: string | undefined;
  /** ids of the last page not yet acknowledged */
  outstanding: Set<string>;
  /** more pending copies wait after the cursor */
  more: boolean;
}

/** What the upgrade established about a socket before it opened. */
export interface Identity {
  userId: string;
  username: string;
  device: string;
  /**
   * the client named the device (?device=); false for an id the server made up, which
   * nothing stored can name yet (no message keys, no registered device)
   */
  namedDevice: boolean;
  /** the sign-in session (sid) behind the access token */
  session: string;
  signinKey: string | null;
  isAdmin: boolean;
  /**
   * the protocol version the socket speaks (upgrade.ts): 1 gets the version-1 frame
   * names, rewritten once per frame for all such sockets (hub.ts, outbox.ts)
   */
  protocol: number;
}

/** Every socket's topics until it has one of its own: one array shared by all. */
const NO_TOPICS: readonly string[] = Object.freeze([]);

/** Two or more frames held for one socket (outbox.ts), and their texts' total length. */
export interface HeldFrames {
  texts: string[];
  bytes: number;
}

/**
 * One socket on this instance. Kept small and flat: the hub holds tens of thousands of
 * these, and memory per idle connection bounds how many one instance can hold.
 */
export class Connection {
  /** heartbeats missed in a row */
  missed = 0;
  /** set once the client sent one valid frame */
  valid = false;
  /**
   * local topics this socket is on besides its user's and its device's (rooms,
   * communities, networks: local-sockets.ts); replaced, never changed in place
   */
  topics: readonly string[] = NO_TOPICS;
  /** frames received in each of the last ten seconds, made on first rate-limit refusal */
  abuse: Uint32Array | undefined;
  abuseSecond = 0;
  /** a frame of this socket is being handled; later ones wait in `backlog`, in order */
  busy = false;
  backlog: [data: unknown, isBinary: boolean][] | undefined;
  /** store-and-forward of direct messages to this socket's device, once it began (dm-delivery.ts) */
  dm: DmPaging | undefined;
  /**
   * frames for this socket held until the end of the tick, to leave in one write
   * (outbox.ts): one frame's text, or several with their length
   */
  held: string | HeldFrames | undefined = undefined;

  constructor(
    readonly id: string,
    readonly identity: Identity,
    readonly ws: WebSocket,
    readonly openedAt: number,
  ) {}
}

/** What the hub does with its sockets' events. */
export interface SocketEvents {
  message(conn: Connection, data: RawData, isBinary: boolean): void;
  /** ws is about to write a frame (pong, ping, close, a binary frame): what the hub holds goes first */
  flush(conn: Connection): void;
  pong(conn: Connection): void;
  close(conn: Connection): void;
  error(err: Error & { code?: string }): void;
}

/** ws's socket class as the hub makes it, with the socket's Connection. */
export type HubSocket = WebSocket & { conn: Connection | undefined };

/**
 * ws's socket class for one hub: its events go straight to the hub instead of through
 * listeners added to every socket. An EventEmitter's listener table is a dictionary of
 * about 256 bytes, and the hub holds tens of thousands of idle sockets. Any
 * listener added anyway still hears every event but "message" and "pong".
 */
export function hubSocketClass(on: SocketEvents): typeof WebSocket {
  return class extends WebSocket {
    conn: Connection | undefined = undefined;
    // biome-ignore lint/suspicious/noExplicitAny: ws's constructor is internal; its arguments pass through
    constructor(...args: any[]) {
      // @ts-expect-error ws calls this with its internal arguments
      super(...args);
      // Even with no listener an EventEmitter holds an empty dictionary for them: about
      // 200 bytes per socket. None is added here; Node's EventEmitter makes one again
      // on the first `on`, and treats a missing one as empty everywhere else.
      const self = this as unknown as { _events?: object; _eventsCount?: number };
      if (self._eventsCount === 0) self._events = undefined;
    }
    override close(code?: number, data?: string | Buffer): void {
      if (this.conn?.held !== undefined) on.flush(this.conn);
      super.close(code, data);
    }
    override pong(data?: unknown, mask?: boolean, cb?: (err: Error) => void): void {
      if (this.conn?.held !== undefined) on.flush(this.conn);
      super.pong(data, mask, cb);
    }
    override ping(data?: unknown, mask?: boolean, cb?: (err: Error) => void): void {
      if (this.conn?.held !== undefined) on.flush(this.conn);
      super.ping(data, mask, cb);
    }
    // Binary frames (the packet relay) go through ws's send: after what is held, too.
    // biome-ignore lint/suspicious/noExplicitAny: ws's send is overloaded; this passes both forms on
    override send(data: any, options?: any, cb?: any): void {
      if (this.conn?.held !== undefined) on.flush(this.conn);
      super.send(data, options, cb);
    }
    // ws emits at most two arguments on a server socket: no rest array per frame.
    override emit(event: string | symbol, a?: unknown, b?: unknown): boolean {
      const conn = this.conn;
      if (event === "error") {
        on.error(a as Error);
        if (this.listenerCount("error") > 0) super.emit(event, a);
        return true;
      }
      if (conn !== undefined) {
        if (event === "message") {
          const first = !conn.valid;
          on.message(conn, a as RawData, b as boolean);
          if (first) releaseReadBuffers(this);
          return true;
        }
        if (event === "pong") {
          on.pong(conn);
          return true;
        }
        if (event === "close") on.close(conn);
      }
      return super.emit(event, a, b);
    }
  };
}

/**
 * ws's receiver queues a socket's incoming chunks in an array that, once a read is
 * consumed, is empty but keeps room for 17 chunks (152 bytes) for as long as the socket
 * lives: an idle socket's largest single cost after its first frame. An empty one is
 * swapped for a new array, which has no room until the next read. Nothing happens while
 * chunks are queued, or on a ws that keeps them otherwise.
 */
export function releaseReadBuffers(ws: WebSocket): void {
  const receiver = (ws as unknown as { _receiver?: { _buffers?: unknown; _bufferedBytes?: unknown } })
    ._receiver;
  const buffers = receiver?._buffers;
  if (receiver?._bufferedBytes === 0 && Array.isArray(buffers) && buffers.length === 0)
    receiver._buffers = [];
}

/** The welcome's limits, serialised once per hub configuration. */
const limitsText = new WeakMap<HubConfig, string>();

/**
 * welcomeOf(conn, hub) serialised, as the socket gets it (the same keys in the same
 * order; under its version-1 name for a version-1 socket), written out directly: JSON.stringify of the frame cost several times as much,
 * on every accept. Strings that could hold anything go through JSON.stringify.
 */
export function welcomeTextOf(conn: Connection, hub: HubConfig): string {
  let limits = limitsText.get(hub);
  if (limits === undefined) {
    limits = JSON.stringify(welcomeOf(conn, hub).limits);
    limitsText.set(hub, limits);
  }
  const { identity } = conn;
  const text =
    `{"type":"welcome","user":{"id":${JSON.stringify(identity.userId)},"username":${JSON.stringify(identity.username)}},` +
    `"device":${JSON.stringify(identity.device)},"session":${JSON.stringify(conn.id)},` +
    `"server_time":"${isoOf(Date.now())}","limits":${limits},"protocol_version":${identity.protocol}}`;
  return identity.protocol === 1 ? version1Text(text) : text;
}

/** The first frame a socket gets: who it is, its session, and the limits it must keep. */
export function welcomeOf(conn: Connection, hub: HubConfig): WelcomeFrame {
  return {
    type: "welcome",
    user: { id: conn.identity.userId, username: conn.identity.username },
    device: conn.identity.device,
    session: conn.id,
    server_time: new Date().toISOString(),
    limits: {
      max_message_bytes: hub.maxMessageBytes,
      message_rate_limit: hub.messageRate,
      message_burst_limit: hub.messageBurst,
      heartbeat_interval_ms: hub.heartbeatIntervalMs,
    },
    protocol_version: conn.identity.protocol,
  };
}
