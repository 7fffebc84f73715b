/**
 * Typed listeners by event name. A listener that throws does not stop the others or
 * the socket: its error is rethrown on its own, where the host reports it.
 */
export function createEmitter<E extends object>() {
  const listeners = new Map<keyof E, Set<(event: never) => void>>();
  return {
    on<K extends keyof E>(type: K, handler: (event: E[K]) => void): () => void {
      const set = listeners.get(type) ?? new Set();
      listeners.set(type, set);
      const entry = handler as (event: never) => void;
      set.add(entry);
      return () => {
        set.delete(entry);
      };
    },
    emit<K extends keyof E>(type: K, event: E[K]): void {
      const set = listeners.get(type);
      if (!set) return;
      for (const handler of [...set]) {
        try {
          (handler as (event: E[K]) => void)(event);
        } catch (err) {
          queueMicrotask(() => {
            throw err;
          });
        }
      }
    },
  };
}
