import { CLOSE } from "@warren/protocol";
import type { RawData } from "ws";
import type { Maybe } from "../maybe.js";
import type { Metrics } from "../observability/metrics.js";
import type { Connection } from "./connection.js";

/** Frames a socket may have waiting behind a slow one before it counts as abuse. */
const MAX_BACKLOG = 1000;

/**
 * A socket's frames are handled one at a time, in the order sent: a client may send
 * room.join and then signal at once and rely on the join having happened. A frame
 * handled at once (the common case) needs no queue; while one waits on a store, later
 * frames wait in the socket's backlog.
 */
export function createFrameQueue(o: {
  dispatch(conn: Connection, data: RawData, isBinary: boolean): Maybe<void>;
  metrics: Metrics;
  log: { warn(obj: object, msg: string): void };
}) {
  const wait = (conn: Connection, waiting: Promise<void>) => {
    conn.busy = true;
    waiting.then(
      () => drain(conn),
      (err) => {
        o.log.warn({ err }, "frame handling failed");
        drain(conn);
      },
    );
  };
  const drain = (conn: Connection) => {
    conn.busy = false;
    for (let next = conn.backlog?.shift(); next; next = conn.backlog?.shift()) {
      const waiting = o.dispatch(conn, next[0] as RawData, next[1]);
      if (waiting) return wait(conn, waiting);
    }
    conn.backlog = undefined;
  };
  const receive = (conn: Connection, data: RawData, isBinary: boolean) => {
    if (!conn.busy) {
      const waiting = o.dispatch(conn, data, isBinary);
      if (waiting) wait(conn, waiting);
      return;
    }
    conn.backlog ??= [];
    if (conn.backlog.length >= MAX_BACKLOG) {
      o.metrics.closed("abuse");
      conn.ws.close(CLOSE.policy_violation, "too many frames waiting");
      return;
    }
    conn.backlog.push([data, isBinary]);
  };
  return { receive, drain };
}
