import type { PresenceFrame } from "@warren/protocol";
import type { Bus } from "../bus/bus.js";
import { topics } from "../bus/topics.js";
import { mayContact } from "../policy/policy.js";
import type { SharedState } from "../state/index.js";

/**
 * Presence: online/offline goes only to users who share a room, and queries
 * answer only about them. Nothing about addresses is kept or shown
 * (docs/security.md "Presence privacy").
 */
export function createPresence(state: SharedState, bus: Bus) {
  /** Everyone who shares at least one room with the user, once each. */
  const coMembers = async (userId: string): Promise<Set<string>> => {
    const out = new Set<string>();
    for (const room of await state.rooms.roomsOf(userId)) {
      for (const member of await state.rooms.members(room)) if (member !== userId) out.add(member);
    }
    return out;
  };

  const announce = async (userId: string, status: "online" | "offline") => {
    // Most users share no room with anyone online: then there is no frame to make.
    const peers = await coMembers(userId);
    if (peers.size === 0) return;
    const frame: PresenceFrame = {
      type: "presence",
      user: userId,
      status,
      last_seen: await state.presence.lastSeen(userId),
    };
    const text = JSON.stringify(frame);
    for (const peer of peers)
      await bus.publish(topics.user(peer), { kind: "frame", frame: text, type: "presence" });
  };

  return {
    /** A socket opened; tells co-members when the user came online. */
    async connected(userId: string, deviceId: string): Promise<void> {
      if (await state.presence.connect(userId, deviceId)) await announce(userId, "online");
    },
    /** A socket closed; tells co-members when it was the user's last. True if now offline. */
    async disconnected(userId: string, deviceId: string): Promise<boolean> {
      const offline = await state.presence.disconnect(userId, deviceId);
      if (offline) await announce(userId, "offline");
      return offline;
    },
    /** A dead instance's sockets were reaped and the user has none left. */
    wentOffline: (userId: string) => announce(userId, "offline"),
    isOnline: (userId: string) => state.presence.isOnline(userId),
    onlineCount: () => state.presence.onlineCount(),

    /** Answers only about users the asker may contact; the rest are left out, not marked. */
    async query(asker: string, users: string[]): Promise<{ presence: Omit<PresenceFrame, "type">[] }> {
      const out: Omit<PresenceFrame, "type">[] = [];
      for (const user of new Set(users)) {
        const allowed = mayContact({
          sameUser: user === asker,
          shareRoom: await state.rooms.shareRoom(asker, user),
        });
        if (!allowed) continue;
        const online = await state.presence.isOnline(user);
        out.push({
          user,
          status: online ? "online" : "offline",
          last_seen: await state.presence.lastSeen(user),
        });
      }
      return { presence: out };
    },
  };
}

export type Presence = ReturnType<typeof createPresence>;
