import type { PresenceStore } from "./presence.js";

export function createMemoryPresence(): PresenceStore {
  /**
   * user → their devices' sockets. One device with one socket, the common case, is held
   * as the device id alone; a Map of device → sockets only once there is more. A Map per
   * online user cost about 130 bytes per idle connection.
   */
  const online = new Map<string, string | Map<string, number>>();
  /** user → when last seen, in ms: a number per user, where an ISO string took 40 bytes */
  const seen = new Map<string, number>();
  return {
    async connect(user, device) {
      const held = online.get(user);
      if (held === undefined) online.set(user, device);
      else if (typeof held === "string")
        online.set(user, new Map([[held, 1]]).set(device, held === device ? 2 : 1));
      else held.set(device, (held.get(device) ?? 0) + 1);
      seen.set(user, Date.now());
      return held === undefined;
    },
    async disconnect(user, device) {
      const held = online.get(user);
      if (held === undefined) return false;
      seen.set(user, Date.now());
      if (typeof held === "string") {
        // A device with no socket here leaves the user as they are.
        if (held !== device) return false;
        online.delete(user);
        return true;
      }
      const n = (held.get(device) ?? 0) - 1;
      if (n > 0) held.set(device, n);
      else held.delete(device);
      if (held.size > 0) return false;
      online.delete(user);
      return true;
    },
    isOnline: async (user) => online.has(user),
    lastSeen: async (user) => {
      const at = seen.get(user);
      return at === undefined ? null : new Date(at).toISOString();
    },
    onlineCount: async () => online.size,
  };
}
