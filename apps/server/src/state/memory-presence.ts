import type { PresenceStore } from "./presence.js";

export function createMemoryPresence(): PresenceStore {
  /** user → device → number of sockets */
  const online = new Map<string, Map<string, number>>();
  const seen = new Map<string, string>();
  return {
    async connect(user, device) {
      let devices = online.get(user);
      const cameOnline = !devices;
      if (!devices) {
        devices = new Map();
        online.set(user, devices);
      }
      devices.set(device, (devices.get(device) ?? 0) + 1);
      seen.set(user, new Date().toISOString());
      return cameOnline;
    },
    async disconnect(user, device) {
      const devices = online.get(user);
      if (!devices) return false;
      const n = (devices.get(device) ?? 0) - 1;
      if (n > 0) devices.set(device, n);
      else devices.delete(device);
      seen.set(user, new Date().toISOString());
      if (devices.size > 0) return false;
      online.delete(user);
      return true;
    },
    isOnline: async (user) => online.has(user),
    lastSeen: async (user) => seen.get(user) ?? null,
    onlineCount: async () => online.size,
  };
}
