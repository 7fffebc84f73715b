import { CLOSE, ERRORS, type ErrorCode, type ErrorFrame, version1Type } from "@warren/protocol";
import { WebSocket } from "ws";
import type { Metrics } from "../observability/metrics.js";
import type { Connection } from "./connection.js";

/** The slice of the socket under a `ws` WebSocket that the outbox uses. */
interface Corkable {
  cork(): void;
  uncork(): void;
  write(chunk: Buffer): boolean;
}

/** A server ping (RFC 6455 §5.5.2): FIN, opcode 0x9, unmasked, no payload. */
const PING = Buffer.from([0x89, 0x00]);

/**
 * One whole unmasked text frame (RFC 6455 §5.2) in one buffer: header and payload leave
 * in one write, where ws would build and queue them as two. Compression is off for every
 * socket (hub.ts), so ws has nothing queued that this could overtake, and it writes each
 * of its own frames (pongs, close) whole, so frames never interleave.
 */
function textFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x81;
  if (header === 2) frame[1] = length;
  else if (header === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  frame.write(text, header);
  return frame;
}
const socketOf = (conn: Connection) => (conn.ws as unknown as { _socket?: Corkable | null })._socket;

/**
 * Sending with backpressure: a socket whose unsent bytes pass SLOW_CLIENT_BYTES is
 * closed with 1013 instead of queueing more, so one client that does not read cannot
 * grow the server's memory or slow anyone else.
 */
export function createOutbox(metrics: Metrics, slowClientBytes: number) {
  /**
   * Sockets holding frames until the end of this tick (process.nextTick). Frames for one socket produced
   * while handling one read (a sender's burst to one peer arrives as many frames in one
   * chunk) leave in one write instead of one each: the write system call is most of a
   * relayed frame's cost. Nothing waits longer than the current tick.
   */
  let corked: Connection[] = [];
  const uncorkAll = () => {
    const held = corked;
    corked = [];
    for (const conn of held) {
      conn.corked = false;
      socketOf(conn)?.uncork();
    }
  };
  const hold = (conn: Connection, socket: Corkable) => {
    if (conn.corked) return;
    socket.cork();
    conn.corked = true;
    if (corked.length === 0) process.nextTick(uncorkAll);
    corked.push(conn);
  };

  const send = (conn: Connection, text: string, type: string): boolean => {
    const ws = conn.ws;
    if (ws.readyState !== WebSocket.OPEN) return false;
    if (ws.bufferedAmount > slowClientBytes) {
      metrics.closed("slow_client");
      ws.close(CLOSE.try_again_later, "slow client: read your messages");
      return false;
    }
    const socket = socketOf(conn);
    if (socket) {
      hold(conn, socket);
      socket.write(textFrame(text));
    } else ws.send(text);
    metrics.sent(type);
    return true;
  };

  return {
    send,
    /**
     * The heartbeat's ping, written as two ready-made bytes: one write per socket and
     * nothing to build (ws writes every frame whole, so it cannot land inside another).
     */
    ping(conn: Connection): void {
      if (conn.ws.readyState !== WebSocket.OPEN) return;
      const socket = socketOf(conn);
      if (socket) socket.write(PING);
      else conn.ws.ping();
    },
    /**
     * One socket's own frame (a reply, its welcome), serialised for it: under its
     * version-1 name for a version-1 socket. `send` takes text made once for many sockets,
     * which the caller has rewritten for version-1 sockets already (hub.ts `deliver`).
     */
    frame(conn: Connection, frame: { type: string; [key: string]: unknown }): boolean {
      const type = conn.identity.protocol === 1 ? version1Type(frame.type) : frame.type;
      return send(conn, JSON.stringify(type === frame.type ? frame : { ...frame, type }), frame.type);
    },
    error(
      conn: Connection,
      re: string | undefined,
      code: ErrorCode,
      message: string = ERRORS[code].message,
      extra: Partial<ErrorFrame> = {},
    ): void {
      const frame: ErrorFrame = { type: "error", code, message, ...extra };
      if (re !== undefined) frame.re = re;
      send(conn, JSON.stringify(frame), "error");
    },
  };
}

export type Outbox = ReturnType<typeof createOutbox>;
