import { CLOSE, ERRORS, type ErrorCode, type ErrorFrame } from "@warren/protocol";
import { WebSocket } from "ws";
import type { Metrics } from "../observability/metrics.js";
import type { Connection } from "./connection.js";

/**
 * Sending with backpressure: a socket whose unsent bytes pass SLOW_CLIENT_BYTES is
 * closed with 1013 instead of queueing more, so one client that does not read cannot
 * grow the server's memory or slow anyone else.
 */
export function createOutbox(metrics: Metrics, slowClientBytes: number) {
  const send = (conn: Connection, text: string, type: string): boolean => {
    const ws = conn.ws;
    if (ws.readyState !== WebSocket.OPEN) return false;
    if (ws.bufferedAmount > slowClientBytes) {
      metrics.closed("slow_client");
      ws.close(CLOSE.try_again_later, "slow client: read your messages");
      return false;
    }
    ws.send(text);
    metrics.sent(type);
    return true;
  };

  return {
    send,
    frame(conn: Connection, frame: { type: string; [key: string]: unknown }): boolean {
      return send(conn, JSON.stringify(frame), frame.type);
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
