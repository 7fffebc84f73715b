import type { Bus, BusEvent, BusHandler } from "./bus.js";
import { createHandlerTable } from "./handler-table.js";

/** The in-process bus: one server instance, delivery by direct call. */
export function createMemoryBus(): Bus {
  const handlers = createHandlerTable();
  return {
    publish: (topic: string, event: BusEvent): number => handlers.deliver(topic, event),
    subscribe(topic: string, handler: BusHandler): void {
      handlers.add(topic, handler);
    },
    unsubscribe(topic: string, handler: BusHandler): void {
      handlers.remove(topic, handler);
    },
    settled: () => Promise.resolve(),
    onRestored: () => {},
    healthy: () => true,
    async close() {
      handlers.clear();
    },
  };
}
