import type { Bus, BusHandler } from "../bus/bus.js";
import { topics } from "../bus/topics.js";
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
    /** True when sockets of both users here are on one room topic (Redis is away). */
    shareRoom(a: string, b: string): boolean {
      const rooms = new Set<string>();
      for (const conn of byTopic.get(topics.user(a))?.sockets ?? []) {
        for (const t of conn.topics) if (t.startsWith("room:")) rooms.add(t);
      }
      for (const conn of byTopic.get(topics.user(b))?.sockets ?? []) {
        for (const t of conn.topics) if (rooms.has(t)) return true;
      }
      return false;
    },
    /** Who this instance's sockets say is in which room: its share after a Redis restart. */
    roomMembers(): { room: string; user: string }[] {
      const out = new Map<string, { room: string; user: string }>();
      for (const [topic, entry] of byTopic) {
        if (!topic.startsWith("room:")) continue;
        const room = topic.slice("room:".length);
        for (const conn of entry.sockets)
          out.set(`${room}\n${conn.identity.userId}`, { room, user: conn.identity.userId });
      }
      return [...out.values()];
    },
    /** Every topic this instance holds sockets for. */
    topics: () => [...byTopic.keys()],
    /** How many room topics this instance holds sockets for. */
    roomCount(): number {
      let n = 0;
      for (const topic of byTopic.keys()) if (topic.startsWith("room:")) n += 1;
      return n;
    },
  };
}

export type LocalSockets = ReturnType<typeof createLocalSockets>;
