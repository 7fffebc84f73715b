import { CLOSE, version1Text } from "@warren/protocol";
import type { BusEvent } from "../bus/bus.js";
import { topics } from "../bus/topics.js";
import type { Metrics } from "../observability/metrics.js";
import type { LocalSockets } from "./local-sockets.js";
import type { Outbox } from "./outbox.js";

export interface DeliverDeps {
  local: LocalSockets;
  outbox: Outbox;
  metrics: Metrics;
  /** what else hears every event for this instance's sockets (the signaling contacts, the packet relay) */
  observers: { observe(event: BusEvent): void }[];
}

/** What a bus event on a topic does to this instance's sockets on it. */
export function createDeliver({ local, outbox, metrics, observers }: DeliverDeps) {
  return (topic: string, event: BusEvent): void => {
    const sockets = local.socketsOf(topic);
    if (!sockets) return;
    for (const o of observers) o.observe(event);
    switch (event.kind) {
      case "frame": {
        // Version-1 sockets get the frame under its old name, rewritten once for all of them.
        let v1: string | undefined;
        for (const conn of sockets) {
          if (conn.id === event.except) continue;
          if (conn.identity.protocol !== 1) outbox.send(conn, event.frame, event.type ?? "event");
          else {
            v1 ??= version1Text(event.frame);
            outbox.send(conn, v1, event.type ?? "event");
          }
        }
        return;
      }
      case "room.subscribe":
        for (const conn of [...sockets]) local.add(topics.room(event.room), conn);
        return;
      case "room.unsubscribe":
        for (const conn of [...sockets]) local.remove(topics.room(event.room), conn);
        return;
      case "topics.add":
        for (const conn of [...sockets]) for (const t of event.topics) local.add(t, conn);
        return;
      case "topics.remove":
        for (const conn of [...sockets]) for (const t of event.topics) local.remove(t, conn);
        return;
      case "session.ended":
        for (const conn of [...sockets]) {
          if (conn.identity.session !== event.session) continue;
          metrics.closed("session_ended");
          conn.ws.close(CLOSE.session_ended, "signed out");
        }
        return;
    }
  };
}
