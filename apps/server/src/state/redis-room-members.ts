import type { Redis } from "ioredis";
import type { AddResult, RoomMembers } from "./room-members.js";

/** `<p>room:<room>` (users) and `<p>user-rooms:<user>` (rooms): both sides, so shareRoom is one SINTERCARD. */
export const roomKey = (prefix: string, room: string) => `${prefix}room:${room}`;
export const userRoomsKey = (prefix: string, user: string) => `${prefix}user-rooms:${user}`;

/** KEYS: room set, user's rooms set. ARGV: user, max, room. Check and add in one step: racing joins cannot overfill. */
const ADD = `
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 'already' end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 'full' end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[3])
return 'added'
`;

/**
 * KEYS: room set. ARGV: room, key prefix. The members' user-rooms keys are built here:
 * the member list is only known inside the script (fine on one Redis, not on a cluster).
 */
const CLEAR = `
local members = redis.call('SMEMBERS', KEYS[1])
for _, user in ipairs(members) do
  redis.call('SREM', ARGV[2] .. 'user-rooms:' .. user, ARGV[1])
end
redis.call('DEL', KEYS[1])
return members
`;

const REMOVE = `
local was = redis.call('SREM', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[2])
return was
`;

interface Scripts {
  warrenRoomAdd(
    room: string,
    userRooms: string,
    user: string,
    max: number,
    roomId: string,
  ): Promise<AddResult>;
  warrenRoomClear(room: string, roomId: string, prefix: string): Promise<string[]>;
  warrenRoomRemove(room: string, userRooms: string, user: string, roomId: string): Promise<number>;
}

/** Live room membership in Redis, shared by every instance. */
export function createRedisRoomMembers(redis: Redis, prefix: string): RoomMembers {
  redis.defineCommand("warrenRoomAdd", { numberOfKeys: 2, lua: ADD });
  redis.defineCommand("warrenRoomClear", { numberOfKeys: 1, lua: CLEAR });
  redis.defineCommand("warrenRoomRemove", { numberOfKeys: 2, lua: REMOVE });
  const run = redis as unknown as Scripts;
  return {
    add: (room, user, max) =>
      run.warrenRoomAdd(roomKey(prefix, room), userRoomsKey(prefix, user), user, max, room),
    remove: async (room, user) =>
      (await run.warrenRoomRemove(roomKey(prefix, room), userRoomsKey(prefix, user), user, room)) === 1,
    members: (room) => redis.smembers(roomKey(prefix, room)),
    isMember: async (room, user) => (await redis.sismember(roomKey(prefix, room), user)) === 1,
    roomsOf: (user) => redis.smembers(userRoomsKey(prefix, user)),
    // The relay rule runs for every frame between users: one round trip, stopping at the first shared room.
    shareRoom: async (a, b) =>
      (await redis.sintercard(2, userRoomsKey(prefix, a), userRoomsKey(prefix, b), "LIMIT", 1)) > 0,
    clear: (room) => run.warrenRoomClear(roomKey(prefix, room), room, prefix),
  };
}
