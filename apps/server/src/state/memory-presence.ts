import type { PresenceStore } from "./presence.js";

export function createMemoryPresence(): PresenceStore {
  /**
   * user → their devices' sockets. One device with one socket, the common case, is held
   * as the device id alone; a Map of device → sockets only once there is more. A Map per
   * online user cost about 130 bytes per idle connection.
   */
  const online = new Map<string, string | Map<string, number>>();
  const seen = new Map<string, string>();
  return {
    async connect(user, device) {
      const held = online.get(user);
      if (held === undefined) online.set(user, device);
      else if (typeof held === "string")
        online.set(user, new Map([[held, 1]]).set(device, held === device ? 2 : 1));
      else held.set(device, (held.get(device) ?? 0) + 1);
      seen.set(user, new Date().toISOString());
      return held === undefined;
    },
    async disconnect(user, device) {
      const held = online.get(user);
      if (held === undefined) return false;
      seen.set(user, new Date().toISOString());
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
    lastSeen: async (user) => seen.get(user) ?? null,
    onlineCount: async () => online.size,
  };
}
