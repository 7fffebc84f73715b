import type { ClientFrame, ServerFrame } from "@warren/protocol";

/**
 * The rooms this socket's user joined through it, with the password used, so a
 * reconnect can join them again. Room membership is live state on the server: it
 * survives a short drop (ROOM_GRACE_PERIOD) but not a restart, and joining a room one
 * is already in answers the same without asking for the password, so re-joining
 * every remembered room after a reconnect is always safe.
 *
 * Communities and networks need nothing here: the server puts every socket on its
 * user's community and network topics when it connects.
 */
export function createRoomMemory() {
  const rooms = new Map<string, string | undefined>();
  return {
    /** After a request's successful reply. */
    replied(frame: ClientFrame, result: unknown): void {
      switch (frame.type) {
        case "room.join":
        case "subscribe":
          rooms.set(frame.room, frame.password);
          return;
        case "room.create": {
          // The creator is the owner and first member; an owner needs no password.
          const id = (result as { room?: { id?: unknown } } | undefined)?.room?.id;
          if (typeof id === "string") rooms.set(id, undefined);
          return;
        }
        case "room.leave":
        case "unsubscribe":
        case "room.delete":
          rooms.delete(frame.room);
          return;
      }
    },
    /** Frames that take the user out of a room. */
    received(frame: ServerFrame): void {
      if (frame.type === "kicked" || frame.type === "room.deleted") rooms.delete(frame.room);
    },
    forget(room: string): void {
      rooms.delete(room);
    },
    /** room.join frames for every remembered room */
    joins(): ClientFrame<"room.join">[] {
      return [...rooms].map(([room, password]) =>
        password === undefined ? { type: "room.join", room } : { type: "room.join", room, password },
      );
    },
    list: (): string[] => [...rooms.keys()],
  };
}

export type RoomMemory = ReturnType<typeof createRoomMemory>;
