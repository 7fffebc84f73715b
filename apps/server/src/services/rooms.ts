import type { RoomEventFrame, RoomInfo, RoomMember } from "@warren/protocol";
import { uuidv7 } from "@warren/protocol";
import type { Bus } from "../bus/bus.js";
import { topics } from "../bus/topics.js";
import { type Clock, systemClock } from "../clock.js";
import type { HubConfig } from "../config.js";
import { AppError } from "../errors.js";
import { mayInRoom, type RoomAction, type RoomRole } from "../policy/policy.js";
import type { SharedState } from "../state/index.js";
import type { Repositories } from "../storage/repositories/index.js";
import type { RoomRow } from "../storage/repositories/rooms.js";
import type { BruteForceGuard } from "./brute-force.js";
import { isoAfter, nowIso } from "./context.js";
import { hashPassword, verifyPassword } from "./passwords.js";

/** Who is acting: the hub passes the socket's identity. */
export interface Actor {
  userId: string;
  username: string;
  /** the Ed25519 public key the session signed in with, if any */
  signinKey: string | null;
}

export function toRoomInfo(row: RoomRow): RoomInfo {
  return {
    id: row.id,
    name: row.name,
    owner: row.owner_id,
    owner_key: row.owner_key,
    max_members: row.max_members,
    persistent: row.persistent === 1,
    has_password: row.password_hash !== null,
    created_at: row.created_at,
  };
}

/**
 * Rooms: the decisions. Metadata is stored; live membership is shared state;
 * every change is told to the room's topic on the bus, and the hub on each instance
 * moves its sockets in and out of room topics when it hears room.subscribe/unsubscribe.
 */
export function createRooms(
  repos: Pick<Repositories, "rooms" | "users">,
  state: SharedState,
  bus: Bus,
  passwordGuard: BruteForceGuard,
  config: HubConfig,
  clock: Clock = systemClock,
) {
  const emit = (topic: string, frame: RoomEventFrame, except?: string) => {
    const event = { kind: "frame" as const, frame: JSON.stringify(frame), type: frame.type };
    return bus.publish(topic, except ? { ...event, except } : event);
  };
  const subscribeUser = (room: string, user: string) =>
    bus.publish(topics.user(user), { kind: "room.subscribe", room, user });
  const unsubscribeUser = (room: string, user: string) =>
    bus.publish(topics.user(user), { kind: "room.unsubscribe", room, user });

  /** Last-activity writes are throttled: at most one per room per minute. */
  const touched = new Map<string, number>();
  const touch = async (room: string) => {
    const now = clock.now();
    if (now - (touched.get(room) ?? 0) < 60_000) return;
    touched.set(room, now);
    await repos.rooms.update(room, { last_activity_at: new Date(now).toISOString() });
  };

  /**
   * The room and the actor's role in it. Owner actions by anyone else answer forbidden;
   * member actions by an outsider answer not_found ("you are not in that room").
   */
  const load = async (roomId: string, userId: string, action: RoomAction) => {
    const room = await repos.rooms.byId(roomId);
    if (!room) throw new AppError("not_found", "No such room");
    const role: RoomRole =
      room.owner_id === userId
        ? "owner"
        : (await state.rooms.isMember(roomId, userId))
          ? "member"
          : "outsider";
    if (!mayInRoom(role, action)) {
      if (mayInRoom("member", action)) throw new AppError("not_found", "You are not in that room");
      throw new AppError("forbidden", `Only the room's owner may ${action} it`);
    }
    return { room, role };
  };

  const membersOf = async (roomId: string): Promise<RoomMember[]> => {
    const ids = await state.rooms.members(roomId);
    const users = new Map((await repos.users.byIds(ids)).map((u) => [u.id, u.username]));
    return Promise.all(
      ids.map(async (id) => ({
        user: id,
        username: users.get(id) ?? "",
        online: await state.presence.isOnline(id),
      })),
    );
  };

  const remove = async (room: RoomRow, reason: "deleted" | "owner_left" | "expired") => {
    await repos.rooms.delete(room.id);
    touched.delete(room.id);
    await emit(topics.room(room.id), { type: "room.deleted", room: room.id, reason });
    for (const user of await state.rooms.clear(room.id)) await unsubscribeUser(room.id, user);
  };

  /** A member goes: the room goes too when its owner leaves and it is not persistent. */
  const depart = async (room: RoomRow, userId: string, reason: "left" | "disconnected" | "kicked") => {
    const was = await state.rooms.remove(room.id, userId);
    await unsubscribeUser(room.id, userId);
    if (room.owner_id === userId && room.persistent === 0 && reason !== "kicked") {
      await remove(room, "owner_left");
      return;
    }
    if (was)
      await emit(topics.room(room.id), { type: "room.peer_left", room: room.id, user: userId, reason });
  };

  const stats = { cleanupRuns: 0, roomsRemoved: 0 };

  return {
    stats,

    async create(
      actor: Actor,
      body: { name: string; password?: string; max_members?: number; persistent?: boolean },
    ): Promise<{ room: RoomInfo; members: RoomMember[] }> {
      const max = body.max_members ?? config.maxClientsPerRoom;
      if (max > config.maxClientsPerRoom) {
        throw new AppError("invalid_request", `max_members may be at most ${config.maxClientsPerRoom}`, {
          details: { field: "max_members" },
        });
      }
      const now = nowIso(clock.now());
      const row: RoomRow = {
        id: uuidv7(),
        name: body.name,
        password_hash: body.password ? await hashPassword(body.password) : null,
        owner_id: actor.userId,
        owner_key: actor.signinKey,
        max_members: max,
        persistent: body.persistent ? 1 : 0,
        created_at: now,
        last_activity_at: now,
      };
      await repos.rooms.insert(row);
      await state.rooms.add(row.id, actor.userId, max);
      await subscribeUser(row.id, actor.userId);
      return { room: toRoomInfo(row), members: await membersOf(row.id) };
    },

    async join(
      actor: Actor,
      roomId: string,
      password?: string,
    ): Promise<{ room: RoomInfo; members: RoomMember[] }> {
      const room = await repos.rooms.byId(roomId);
      if (!room) throw new AppError("not_found", "No such room");
      const isOwner = room.owner_id === actor.userId;
      if (!isOwner && !(await state.rooms.isMember(roomId, actor.userId))) {
        const until = await repos.rooms.bannedUntil(roomId, actor.userId, nowIso(clock.now()));
        if (until)
          throw new AppError("banned", `You were removed from this room until ${until}`, {
            details: { until },
          });
        if (room.password_hash) {
          const key = `${roomId}:${actor.userId}`;
          await passwordGuard.check(key, undefined).catch((err: unknown) => {
            const seconds = (err as AppError).details as { retry_after?: number } | undefined;
            throw new AppError("rate_limited", "Too many wrong passwords for this room; try again later", {
              details: { retry_after_ms: (seconds?.retry_after ?? 60) * 1000 },
            });
          });
          if (!password || !(await verifyPassword(room.password_hash, password))) {
            await passwordGuard.fail(key, undefined);
            throw new AppError("invalid_password");
          }
          await passwordGuard.succeed(key);
        }
      }
      const added = await state.rooms.add(roomId, actor.userId, room.max_members);
      if (added === "full") throw new AppError("room_full");
      if (added === "added") {
        await emit(topics.room(roomId), {
          type: "room.peer_joined",
          room: roomId,
          user: actor.userId,
          username: actor.username,
        });
        await touch(roomId);
      }
      await subscribeUser(roomId, actor.userId);
      return { room: toRoomInfo(room), members: await membersOf(roomId) };
    },

    async leave(actor: Actor, roomId: string): Promise<{ room: string; left: boolean }> {
      const { room } = await load(roomId, actor.userId, "leave");
      await depart(room, actor.userId, "left");
      return { room: roomId, left: true };
    },

    async rename(actor: Actor, roomId: string, name: string): Promise<RoomInfo> {
      const { room } = await load(roomId, actor.userId, "rename");
      await repos.rooms.update(roomId, { name, last_activity_at: nowIso(clock.now()) });
      await emit(topics.room(roomId), { type: "room.renamed", room: roomId, name });
      return toRoomInfo({ ...room, name });
    },

    async kick(
      actor: Actor,
      roomId: string,
      userId: string,
    ): Promise<{ room: string; user: string; until: string }> {
      const { room } = await load(roomId, actor.userId, "kick");
      if (userId === actor.userId)
        throw new AppError("invalid_request", "The owner cannot kick themselves; leave or delete the room");
      if (!(await state.rooms.isMember(roomId, userId)))
        throw new AppError("not_found", "That user is not in this room");
      const until = isoAfter(config.roomKickBanMs, clock.now());
      await repos.rooms.ban(roomId, userId, until, actor.userId);
      // The kicked user hears it before their sockets leave the room topic.
      await emit(topics.user(userId), { type: "kicked", room: roomId, by: actor.userId, until });
      await depart(room, userId, "kicked");
      return { room: roomId, user: userId, until };
    },

    async delete(actor: Actor, roomId: string): Promise<{ room: string; deleted: boolean }> {
      const { room } = await load(roomId, actor.userId, "delete");
      await remove(room, "deleted");
      return { room: roomId, deleted: true };
    },

    async list(actor: Actor): Promise<{ rooms: RoomInfo[] }> {
      const rows = await repos.rooms.byIds(await state.rooms.roomsOf(actor.userId));
      return { rooms: rows.map(toRoomInfo) };
    },

    /** The `broadcast` frame, scoped to a room: every other socket in the room. */
    async broadcast(
      actor: Actor,
      from: { connection: string; device: string },
      roomId: string,
      payload: unknown,
    ) {
      if (!(await state.rooms.isMember(roomId, actor.userId)))
        throw new AppError("not_found", "No such room");
      await emit(
        topics.room(roomId),
        { type: "broadcast", room: roomId, from: actor.userId, from_device: from.device, payload },
        from.connection,
      );
      await touch(roomId);
      return { room: roomId };
    },

    /** Called when a user's last socket is gone for the grace period: they leave every room. */
    async departAll(userId: string): Promise<void> {
      for (const roomId of await state.rooms.roomsOf(userId)) {
        const room = await repos.rooms.byId(roomId);
        if (room) await depart(room, userId, "disconnected");
        else await state.rooms.remove(roomId, userId);
      }
    },

    roomsOf: (userId: string) => state.rooms.roomsOf(userId),

    /** At shutdown of a process whose membership is not shared: its non-persistent rooms end with it. */
    dropNonPersistent: () => repos.rooms.deleteNonPersistent(),
    membersOf,

    /** Rooms stored, live or not (the /stats figure). */
    storedCount: () => repos.rooms.count(),

    /** Removes rooms idle for ROOM_EXPIRY_DAYS; returns how many. */
    async cleanup(): Promise<number> {
      stats.cleanupRuns += 1;
      const idle = await repos.rooms.idleSince(new Date(clock.now() - config.roomExpiryMs).toISOString());
      for (const room of idle) await remove(room, "expired");
      stats.roomsRemoved += idle.length;
      return idle.length;
    },
  };
}

export type Rooms = ReturnType<typeof createRooms>;
