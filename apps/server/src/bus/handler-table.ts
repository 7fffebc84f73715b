import type { BusEvent, BusHandler } from "./bus.js";

/**
 * Topic → handlers, for both buses. A topic almost always has one handler (the hub's),
 * held as is; a Set only once a second one comes. With two topics per idle socket
 * (its user and its device), a Set each would cost ~300 bytes per connection.
 */
export function createHandlerTable() {
  const byTopic = new Map<string, BusHandler | Set<BusHandler>>();
  return {
    /** Adds a handler; true when the topic had none (the bus subscribes to it). */
    add(topic: string, handler: BusHandler): boolean {
      const held = byTopic.get(topic);
      if (held === undefined) {
        byTopic.set(topic, handler);
        return true;
      }
      if (held === handler) return false;
      if (typeof held === "function") byTopic.set(topic, new Set([held, handler]));
      else held.add(handler);
      return false;
    },
    /** Removes a handler; true when it was the topic's last (the bus unsubscribes). */
    remove(topic: string, handler: BusHandler): boolean {
      const held = byTopic.get(topic);
      if (held === undefined) return false;
      if (typeof held === "function") {
        if (held !== handler) return false;
        byTopic.delete(topic);
        return true;
      }
      if (!held.delete(handler)) return false;
      if (held.size === 1) byTopic.set(topic, held.values().next().value as BusHandler);
      return false;
    },
    /** Calls the topic's handlers; how many there were. One failing does not stop the others. */
    deliver(topic: string, event: BusEvent): number {
      const held = byTopic.get(topic);
      if (held === undefined) return 0;
      if (typeof held === "function") {
        call(held, topic, event);
        return 1;
      }
      for (const handler of [...held]) call(handler, topic, event);
      return held.size;
    },
    has: (topic: string) => byTopic.has(topic),
    topics: () => byTopic.keys(),
    clear: () => byTopic.clear(),
  };
}

function call(handler: BusHandler, topic: string, event: BusEvent): void {
  try {
    handler(topic, event);
  } catch {
    // One failing subscriber must not keep the event from the others.
  }
}
