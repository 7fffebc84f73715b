import type { Bus, BusHandler } from "../bus/bus.js";
import type { Connection } from "./connection.js";

/**
 * Which of this instance's sockets are on which topic. The instance subscribes to a
 * topic on the bus when its first local socket joins it and unsubscribes when the last
 * leaves (issue 7: no instance receives every message).
 */
export function createLocalSockets(bus: Bus, handler: BusHandler) {
  const byTopic = new Map<string, { sockets: Set<Connection>; off: () => void }>();

  const add = (topic: string, conn: Connection): void => {
    let entry = byTopic.get(topic);
    if (!entry) {
      entry = { sockets: new Set(), off: bus.subscribe(topic, handler) };
      byTopic.set(topic, entry);
    }
    if (entry.sockets.has(conn)) return;
    entry.sockets.add(conn);
    conn.topics.push(topic);
  };

  const remove = (topic: string, conn: Connection): void => {
    const entry = byTopic.get(topic);
    if (!entry?.sockets.delete(conn)) return;
    const i = conn.topics.indexOf(topic);
    if (i >= 0) conn.topics.splice(i, 1);
    if (entry.sockets.size === 0) {
      byTopic.delete(topic);
      entry.off();
    }
  };

  return {
    add,
    remove,
    removeAll(conn: Connection): void {
      for (const topic of [...conn.topics]) remove(topic, conn);
    },
    socketsOf(topic: string): Set<Connection> | undefined {
      return byTopic.get(topic)?.sockets;
    },
    /** How many room topics this instance holds sockets for. */
    roomCount(): number {
      let n = 0;
      for (const topic of byTopic.keys()) if (topic.startsWith("room:")) n += 1;
      return n;
    },
  };
}

export type LocalSockets = ReturnType<typeof createLocalSockets>;
