import type { Actor } from "../../services/rooms.js";
import type { Connection } from "../connection.js";
import type { HandlerDeps, Handlers } from "./index.js";

const actorOf = (conn: Connection): Actor => ({
  userId: conn.identity.userId,
  username: conn.identity.username,
  signinKey: conn.identity.signinKey,
});

/**
 * Room frames, and the subscribe/unsubscribe aliases of room.join/room.leave, kept for
 * compatibility with clients of the older signaling protocol.
 */
export function roomHandlers({ rooms, bus }: HandlerDeps) {
  // A member told "joined" gets every event after it: the join waits for the room's
  // subscription to be in force (Redis) before it answers.
  const join: Handlers["room.join"] = async (conn, f) => {
    const result = await rooms.join(actorOf(conn), f.room, f.password);
    await bus.settled();
    return { result };
  };
  const leave: Handlers["room.leave"] = async (conn, f) => ({
    result: await rooms.leave(actorOf(conn), f.room),
  });
  const handlers: Pick<
    Handlers,
    | "room.create"
    | "room.join"
    | "subscribe"
    | "room.leave"
    | "unsubscribe"
    | "room.rename"
    | "room.kick"
    | "room.delete"
    | "room.list"
    | "broadcast"
  > = {
    "room.create": async (conn, f) => {
      const result = await rooms.create(actorOf(conn), {
        name: f.name,
        ...(f.password !== undefined && { password: f.password }),
        ...(f.max_members !== undefined && { max_members: f.max_members }),
        ...(f.persistent !== undefined && { persistent: f.persistent }),
      });
      await bus.settled();
      return { result };
    },
    "room.join": join,
    subscribe: join as unknown as Handlers["subscribe"],
    "room.leave": leave,
    unsubscribe: leave as unknown as Handlers["unsubscribe"],
    "room.rename": async (conn, f) => ({
      result: { room: await rooms.rename(actorOf(conn), f.room, f.name) },
    }),
    "room.kick": async (conn, f) => ({ result: await rooms.kick(actorOf(conn), f.room, f.user) }),
    "room.delete": async (conn, f) => ({ result: await rooms.delete(actorOf(conn), f.room) }),
    "room.list": async (conn) => ({ result: await rooms.list(actorOf(conn)) }),
    broadcast: async (conn, f) => {
      const result = await rooms.broadcast(
        actorOf(conn),
        { connection: conn.id, device: conn.identity.device },
        f.room,
        f.payload,
      );
      return f.id === undefined ? undefined : { result };
    },
  };
  return handlers;
}
