import type { Bus, BusEvent, BusHandler } from "./bus.js";

/** The in-process bus: one server instance, delivery by direct call. */
export function createMemoryBus(): Bus {
  const topics = new Map<string, Set<BusHandler>>();
  return {
    publish(topic: string, event: BusEvent): number {
      const handlers = topics.get(topic);
      if (!handlers) return 0;
      for (const handler of handlers) {
        try {
          handler(topic, event);
        } catch {
          // One failing subscriber must not keep the event from the others.
        }
      }
      return handlers.size;
    },
    subscribe(topic: string, handler: BusHandler) {
      let handlers = topics.get(topic);
      if (!handlers) {
        handlers = new Set();
        topics.set(topic, handlers);
      }
      handlers.add(handler);
      return () => {
        const set = topics.get(topic);
        if (!set) return;
        set.delete(handler);
        if (set.size === 0) topics.delete(topic);
      };
    },
    settled: () => Promise.resolve(),
    onRestored: () => {},
    healthy: () => true,
    async close() {
      topics.clear();
    },
  };
}
