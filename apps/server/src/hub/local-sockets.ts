import type { Bus, BusHandler } from "../bus/bus.js";
import { topics } from "../bus/topics.js";
import type { Connection } from "./connection.js";

/**
 * Which of this instance's sockets are on which topic. The instance subscribes to a
 * topic on the bus when its first local socket joins it and unsubscribes when the last
 * leaves, so no instance has to receive every message.
 */
export function createLocalSockets(bus: Bus, handler: BusHandler) {
  // One socket per topic is the common case (a user's topic, a device's topic): held as
  // is, a Set only once a second socket comes (memory per idle connection).
  const byTopic = new Map<string, Connection | Set<Connection>>();

  /** Puts the socket on the topic; false when it was on it already. */
  const hold = (topic: string, conn: Connection): boolean => {
    const held = byTopic.get(topic);
    if (held === undefined) {
      byTopic.set(topic, conn);
      bus.subscribe(topic, handler);
    } else if (held === conn) return false;
    else if (held instanceof Set) {
      if (held.has(conn)) return false;
      held.add(conn);
    } else byTopic.set(topic, new Set([held, conn]));
    return true;
  };

  /** Takes the socket off the topic; false when it was not on it. */
  const release = (topic: string, conn: Connection): boolean => {
    const held = byTopic.get(topic);
    if (held === undefined) return false;
    if (held instanceof Set) {
      if (!held.delete(conn)) return false;
      if (held.size === 1) byTopic.set(topic, held.values().next().value as Connection);
    } else {
      if (held !== conn) return false;
      byTopic.delete(topic);
      bus.unsubscribe(topic, handler);
    }
    return true;
  };

  const add = (topic: string, conn: Connection): void => {
    // A new array of the exact size: pushing, or spreading into a literal, would reserve
    // 17 more slots (136 bytes) per socket; concat does not.
    if (hold(topic, conn)) conn.topics = conn.topics.concat(topic);
  };

  const remove = (topic: string, conn: Connection): void => {
    if (release(topic, conn)) conn.topics = conn.topics.filter((t) => t !== topic);
  };

  /** The socket's own topics, its user's and its device's: implied, not listed in `conn.topics`. */
  const ownTopics = (conn: Connection): [string, string] => [
    topics.user(conn.identity.userId),
    topics.device(conn.identity.userId, conn.identity.device),
  ];

  const socketsOf = (topic: string): Iterable<Connection> | undefined => {
    const held = byTopic.get(topic);
    return held === undefined || held instanceof Set ? held : [held];
  };

  return {
    add,
    remove,
    /**
     * Puts the socket on its user's and its device's topics. They are not kept in
     * `conn.topics`, which stays empty (one array shared by all) until a room, community
     * or network: an array of two per idle socket was 64 bytes.
     */
    addOwn(conn: Connection): void {
      for (const topic of ownTopics(conn)) hold(topic, conn);
    },
    /** Takes the socket off every topic, its own included. */
    removeAll(conn: Connection): void {
      for (const topic of ownTopics(conn)) release(topic, conn);
      for (const topic of conn.topics) remove(topic, conn);
    },
    /** The topic's sockets here; copy before changing topics while iterating. */
    socketsOf,
    /** True when sockets of both users here are on one room topic (Redis is away). */
    shareRoom(a: string, b: string): boolean {
      const rooms = new Set<string>();
      for (const conn of socketsOf(topics.user(a)) ?? []) {
        for (const t of conn.topics) if (t.startsWith("room:")) rooms.add(t);
      }
      for (const conn of socketsOf(topics.user(b)) ?? []) {
        for (const t of conn.topics) if (rooms.has(t)) return true;
      }
      return false;
    },
    /** Who this instance's sockets say is in which room: its share after a Redis restart. */
    roomMembers(): { room: string; user: string }[] {
      const out = new Map<string, { room: string; user: string }>();
      for (const topic of byTopic.keys()) {
        if (!topic.startsWith("room:")) continue;
        const room = topic.slice("room:".length);
        for (const conn of socketsOf(topic) ?? [])
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
