import type { Redis } from "ioredis";
import type { Instances, Reaped, Snapshot } from "./instances.js";
import { devicePair, instanceDevicesKey, splitPair } from "./redis-device-sockets.js";
import { instancePresenceKey, onlineKey, seenKey } from "./redis-presence.js";

/** `<p>instances` ZSET instance id → last beat (Redis TIME, ms); `<p>reap-lock:<id>` while one reaps it. */
export const registryKey = (prefix: string) => `${prefix}instances`;
const lockKey = (prefix: string, id: string) => `${prefix}reap-lock:${id}`;

/*
 * The scripts below build `presence:`, `device:`, `room:` and `user-rooms:` keys of other
 * users the way redis-presence.ts, redis-device-sockets.ts and redis-room-members.ts do:
 * only known inside the script, so one Redis server, not a cluster. Keep them in step.
 */

/** Every script reads Redis's clock, so instances whose clocks differ agree on who is dead. */
const NOW = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
`;

/** KEYS: registry. ARGV: id. Returns 1 when the instance was not registered (new, reaped, or Redis restarted). */
const BEAT = `${NOW} return redis.call('ZADD', KEYS[1], now, ARGV[1])`;

/** KEYS: registry. ARGV: ttl ms. Returns [id, last beat, ...] of the instances silent longer than ttl. */
const DEAD = `${NOW}
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('(%d', now - tonumber(ARGV[1])), 'WITHSCORES')
`;

/**
 * KEYS: its presence set, its devices set, online, seen, registry. ARGV: dead id, key
 * prefix, ttl ms, its last beat as ISO time. Takes out every field the dead instance
 * wrote, in one step, so a socket it counts cannot slip between. Does nothing if it beat
 * again meanwhile or another instance reaped it already. Users going offline are last
 * seen at its last beat (unless seen later). Returns { users, pairs } that have no
 * socket left anywhere.
 */
const REAP = `${NOW}
local id, prefix = ARGV[1], ARGV[2]
local beat = redis.call('ZSCORE', KEYS[5], id)
if not beat or tonumber(beat) >= now - tonumber(ARGV[3]) then return { {}, {} } end
local mine = id .. '\\t'
local users, gone = {}, {}
for _, user in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local k = prefix .. 'presence:' .. user
  for _, f in ipairs(redis.call('HKEYS', k)) do
    if string.sub(f, 1, #mine) == mine then redis.call('HDEL', k, f) end
  end
  if redis.call('EXISTS', k) == 0 and redis.call('SREM', KEYS[3], user) == 1 then
    local seen = redis.call('HGET', KEYS[4], user)
    if not seen or seen < ARGV[4] then redis.call('HSET', KEYS[4], user, ARGV[4]) end
    table.insert(users, user)
  end
end
for _, pair in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local k = prefix .. 'device:' .. pair
  if redis.call('HDEL', k, id) == 1 and redis.call('EXISTS', k) == 0 then table.insert(gone, pair) end
end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[5], id)
return { users, gone }
`;

/**
 * KEYS: this instance's presence set, its devices set, online, seen, registry. ARGV: id,
 * key prefix, now as ISO time, n, n × (user, device, sockets), m, m × (room, user). Sets
 * this instance's fields to exactly the snapshot's counts and removes its others; other
 * instances' fields stay as they are. Room membership is per user, not per instance:
 * adding it again is all it needs (max ignored). Ends with a beat.
 */
const RESTORE = `${NOW}
local id, prefix = ARGV[1], ARGV[2]
local mine = id .. '\\t'
local want, wantPairs, users = {}, {}, {}
for i = 5, 4 + 3 * tonumber(ARGV[4]), 3 do
  local user, device, count = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if not want[user] then want[user] = {}; table.insert(users, user) end
  want[user][mine .. device] = count
  wantPairs[user .. '\\t' .. device] = count
end
local function restoreUser(user)
  local k = prefix .. 'presence:' .. user
  local fields = want[user] or {}
  for _, f in ipairs(redis.call('HKEYS', k)) do
    if string.sub(f, 1, #mine) == mine and not fields[f] then redis.call('HDEL', k, f) end
  end
  for f, count in pairs(fields) do redis.call('HSET', k, f, count) end
  if redis.call('EXISTS', k) == 1 then redis.call('SADD', KEYS[3], user) else redis.call('SREM', KEYS[3], user) end
end
for _, user in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if not want[user] then restoreUser(user) end
end
for _, user in ipairs(users) do restoreUser(user) end
for _, pair in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if not wantPairs[pair] then redis.call('HDEL', prefix .. 'device:' .. pair, id) end
end
redis.call('DEL', KEYS[1], KEYS[2])
for _, user in ipairs(users) do
  redis.call('SADD', KEYS[1], user)
  redis.call('HSETNX', KEYS[4], user, ARGV[3])
end
for pair, count in pairs(wantPairs) do
  redis.call('HSET', prefix .. 'device:' .. pair, id, count)
  redis.call('SADD', KEYS[2], pair)
end
local r = 5 + 3 * tonumber(ARGV[4])
for i = r + 1, r + 2 * tonumber(ARGV[r]), 2 do
  redis.call('SADD', prefix .. 'room:' .. ARGV[i], ARGV[i + 1])
  redis.call('SADD', prefix .. 'user-rooms:' .. ARGV[i + 1], ARGV[i])
end
redis.call('ZADD', KEYS[5], now, id)
`;

interface Scripts {
  warrenInstanceBeat(registry: string, id: string): Promise<number>;
  warrenInstancesDead(registry: string, ttlMs: number): Promise<string[]>;
  warrenInstanceReap(...args: (string | number)[]): Promise<[string[], string[]]>;
  /** arrays are flattened into ARGV by ioredis, which spares a spread of 3 × sockets arguments */
  warrenInstanceRestore(...args: (string | number | (string | number)[])[]): Promise<null>;
}

/** Instances sharing one Redis: beats in a sorted set, reaping under a lock. */
export function createRedisInstances(
  redis: Redis,
  prefix: string,
  options: { instanceId: string; instanceTtlMs: number },
): Instances {
  const { instanceId: id, instanceTtlMs: ttl } = options;
  redis.defineCommand("warrenInstanceBeat", { numberOfKeys: 1, lua: BEAT });
  redis.defineCommand("warrenInstancesDead", { numberOfKeys: 1, lua: DEAD });
  redis.defineCommand("warrenInstanceReap", { numberOfKeys: 5, lua: REAP });
  redis.defineCommand("warrenInstanceRestore", { numberOfKeys: 5, lua: RESTORE });
  const run = redis as unknown as Scripts;
  const lockMs = Math.max(1, Math.ceil(ttl));
  const instanceKeys = (of: string) => [
    instancePresenceKey(prefix, of),
    instanceDevicesKey(prefix, of),
    onlineKey(prefix),
    seenKey(prefix),
    registryKey(prefix),
  ];

  return {
    id,
    beat: async () => (await run.warrenInstanceBeat(registryKey(prefix), id)) === 0,
    async reap(): Promise<Reaped> {
      const reaped: Reaped = { users: [], devices: [] };
      const dead = await run.warrenInstancesDead(registryKey(prefix), ttl);
      for (let i = 0; i + 1 < dead.length; i += 2) {
        const other = dead[i] as string;
        if (other === id) continue; // never itself: it is alive, only late to beat
        // One live instance per dead one; the script checks again, so a lock that
        // expires mid-reap costs a second look, not a second removal.
        if ((await redis.set(lockKey(prefix, other), id, "PX", lockMs, "NX")) !== "OK") continue;
        const lastBeat = new Date(Number(dead[i + 1])).toISOString();
        const [users, pairs] = await run.warrenInstanceReap(
          ...instanceKeys(other),
          other,
          prefix,
          ttl,
          lastBeat,
        );
        reaped.users.push(...users);
        reaped.devices.push(...pairs.map(splitPair));
      }
      return reaped;
    },
    async restore(snapshot: Snapshot) {
      const counts = new Map<string, { user: string; device: string; n: number }>();
      for (const { user, device } of snapshot.sockets) {
        const k = devicePair(user, device);
        const c = counts.get(k);
        if (c) c.n += 1;
        else counts.set(k, { user, device, n: 1 });
      }
      const sockets = [...counts.values()].flatMap((c) => [c.user, c.device, c.n]);
      const rooms = snapshot.rooms.flatMap((r) => [r.room, r.user]);
      // Sent before the first await: commands the hub issued before restore() reach Redis
      // before it and later ones after it, so the snapshot and the counts line up.
      await run.warrenInstanceRestore(
        ...instanceKeys(id),
        id,
        prefix,
        new Date().toISOString(),
        counts.size,
        sockets,
        snapshot.rooms.length,
        rooms,
      );
    },
  };
}
