import type { AddResult, RoomMembers } from "./room-members.js";

export function createMemoryRoomMembers(): RoomMembers {
  const byRoom = new Map<string, Set<string>>();
  const byUser = new Map<string, Set<string>>();
  const link = (map: Map<string, Set<string>>, key: string, value: string) => {
    let set = map.get(key);
    if (!set) {
      set = new Set();
      map.set(key, set);
    }
    set.add(value);
  };
  const unlink = (map: Map<string, Set<string>>, key: string, value: string) => {
    const set = map.get(key);
    if (!set) return;
    set.delete(value);
    if (set.size === 0) map.delete(key);
  };
  const remove = (room: string, user: string): boolean => {
    if (!byRoom.get(room)?.has(user)) return false;
    unlink(byRoom, room, user);
    unlink(byUser, user, room);
    return true;
  };

  return {
    async add(room, user, max): Promise<AddResult> {
      const members = byRoom.get(room);
      if (members?.has(user)) return "already";
      if ((members?.size ?? 0) >= max) return "full";
      link(byRoom, room, user);
      link(byUser, user, room);
      return "added";
    },
    remove: async (room, user) => remove(room, user),
    members: async (room) => [...(byRoom.get(room) ?? [])],
    isMember: async (room, user) => byRoom.get(room)?.has(user) ?? false,
    roomsOf: async (user) => [...(byUser.get(user) ?? [])],
    shareRoom(a, b) {
      const ra = byUser.get(a);
      const rb = byUser.get(b);
      if (!ra || !rb) return false;
      const [small, large] = ra.size <= rb.size ? [ra, rb] : [rb, ra];
      for (const room of small) if (large.has(room)) return true;
      return false;
    },
    async clear(room) {
      const members = [...(byRoom.get(room) ?? [])];
      for (const user of members) remove(room, user);
      return members;
    },
  };
}
