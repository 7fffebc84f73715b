import type { DeviceSockets } from "./device-sockets.js";

/** This process's sockets only: enough for one instance (several share counts in Redis). */
export function createMemoryDeviceSockets(): DeviceSockets {
  /** "user/device" → sockets open */
  const open = new Map<string, number>();
  const key = (user: string, device: string) => `${user}/${device}`;
  return {
    async open(user, device) {
      const k = key(user, device);
      const n = (open.get(k) ?? 0) + 1;
      open.set(k, n);
      return n === 1;
    },
    async close(user, device) {
      const k = key(user, device);
      const n = open.get(k);
      if (n === undefined) return false;
      if (n > 1) {
        open.set(k, n - 1);
        return false;
      }
      open.delete(k);
      return true;
    },
    async online(pairs) {
      return new Set(pairs.filter((p) => open.has(key(p.user, p.device))).map((p) => p.device));
    },
  };
}
