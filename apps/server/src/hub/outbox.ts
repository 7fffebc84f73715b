import { CLOSE, ERRORS, type ErrorCode, type ErrorFrame, version1Type } from "@warren/protocol";
import { WebSocket } from "ws";
import type { Metrics } from "../observability/metrics.js";
import type { Connection, HeldFrames } from "./connection.js";

/** The slice of the socket under a `ws` WebSocket that the outbox uses. */
interface Writable {
  write(chunk: Buffer): boolean;
}

/** A server ping (RFC 6455 §5.5.2): FIN, opcode 0x9, unmasked, no payload. */
const PING = Buffer.from([0x89, 0x00]);

/** The length of a text frame's header (RFC 6455 §5.2) for a payload of `length` bytes. */
const headerLength = (length: number) => (length < 126 ? 2 : length < 65_536 ? 4 : 10);

/** Writes an unmasked text frame's header at `at`; returns where the payload goes. */
function writeHeader(buf: Buffer, at: number, length: number): number {
  buf[at] = 0x81;
  if (length < 126) {
    buf[at + 1] = length;
    return at + 2;
  }
  if (length < 65_536) {
    buf[at + 1] = 126;
    buf.writeUInt16BE(length, at + 2);
    return at + 4;
  }
  buf[at + 1] = 127;
  buf.writeUInt32BE(Math.floor(length / 2 ** 32), at + 2);
  buf.writeUInt32BE(length >>> 0, at + 6);
  return at + 10;
}

/**
 * Whole unmasked text frames (RFC 6455 §5.2), headers and payloads, in one buffer: one
 * write for all of them, where ws would build and queue a header and a payload each.
 * Compression is off for every socket (hub.ts), and ws writes each of its own frames
 * (pongs, close) whole, so frames never interleave.
 */
function textFrames(texts: string[]): Buffer {
  const lengths = new Array<number>(texts.length);
  let total = 0;
  for (let i = 0; i < texts.length; i++) {
    const length = Buffer.byteLength(texts[i] as string);
    lengths[i] = length;
    total += headerLength(length) + length;
  }
  const buf = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < texts.length; i++) {
    at = writeHeader(buf, at, lengths[i] as number);
    at += buf.write(texts[i] as string, at);
  }
  return buf;
}

/** One whole unmasked text frame: a socket's only frame this tick (the common case at a steady rate). */
function textFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const buf = Buffer.allocUnsafe(headerLength(length) + length);
  buf.write(text, writeHeader(buf, 0, length));
  return buf;
}

/** What a socket holds, in bytes (of text, as its frames were counted against SLOW_CLIENT_BYTES). */
const heldBytes = (held: string | HeldFrames | undefined): number =>
  held === undefined ? 0 : typeof held === "string" ? held.length : held.bytes;

const socketOf = (conn: Connection) => (conn.ws as unknown as { _socket?: Writable | null })._socket;

/**
 * Sending with backpressure: a socket whose unsent bytes pass SLOW_CLIENT_BYTES is
 * closed with 1013 instead of queueing more, so one client that does not read cannot
 * grow the server's memory or slow anyone else.
 */
export function createOutbox(metrics: Metrics, slowClientBytes: number) {
  /**
   * Sockets with frames held until the end of this tick (process.nextTick). The frames
   * for one socket produced while handling one read (a sender's burst to one peer
   * arrives as many frames in one chunk) leave as one buffer in one write instead of a
   * write each: the write is most of a relayed frame's cost. Nothing waits longer than
   * the current tick, and anything written through ws (pong, close, binary frames)
   * first sends what is held (connection.ts), so frames keep their order.
   */
  let holding: Connection[] = [];
  const flush = (conn: Connection) => {
    const held = conn.held;
    if (held === undefined) return;
    conn.held = undefined;
    const socket = socketOf(conn);
    if (!socket || conn.ws.readyState !== WebSocket.OPEN) return;
    socket.write(typeof held === "string" ? textFrame(held) : textFrames(held.texts));
  };
  const flushAll = () => {
    const conns = holding;
    holding = [];
    for (const conn of conns) flush(conn);
  };

  /** What is held is dropped with the socket: a client this far behind gets a clean close. */
  const tooSlow = (conn: Connection): false => {
    conn.held = undefined;
    metrics.closed("slow_client");
    conn.ws.close(CLOSE.try_again_later, "slow client: read your messages");
    return false;
  };

  const send = (conn: Connection, text: string, type: string): boolean => {
    const ws = conn.ws;
    if (ws.readyState !== WebSocket.OPEN) return false;
    const held = conn.held;
    if (ws.bufferedAmount + heldBytes(held) > slowClientBytes) return tooSlow(conn);
    if (held === undefined) {
      // One frame is held as its text alone: no array and no object for it.
      conn.held = text;
      if (holding.length === 0) process.nextTick(flushAll);
      holding.push(conn);
    } else if (typeof held === "string") {
      conn.held = { texts: [held, text], bytes: held.length + text.length };
    } else {
      held.texts.push(text);
      held.bytes += text.length;
    }
    metrics.sent(type);
    return true;
  };

  return {
    send,
    /** Sends what the socket holds now: before anything ws writes itself (connection.ts). */
    flush,
    /**
     * The heartbeat's ping, written as two ready-made bytes: one write per socket and
     * nothing to build (ws writes every frame whole, so it cannot land inside another).
     */
    ping(conn: Connection): void {
      if (conn.ws.readyState !== WebSocket.OPEN) return;
      flush(conn);
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
