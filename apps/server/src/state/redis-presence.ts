import type { Redis } from "ioredis";
import type { PresenceStore } from "./presence.js";

/**
 * Keys: `<p>presence:<user>` HASH `<instance>\t<device>` → sockets, deleted with
 * its last field; `<p>online` SET of users with a presence hash; `<p>seen` HASH user → ISO
 * time; `<p>instance:<id>:presence` SET of the users the instance counts, so a live
 * instance can take a dead one's sockets out (redis-instances.ts).
 */
export const presenceKey = (prefix: string, user: string) => `${prefix}presence:${user}`;
export const onlineKey = (prefix: string) => `${prefix}online`;
export const seenKey = (prefix: string) => `${prefix}seen`;
export const instancePresenceKey = (prefix: string, id: string) => `${prefix}instance:${id}:presence`;

/** KEYS: presence hash, online, seen, instance set. ARGV: field, user, now. Returns 1 when the user came online. */
const CONNECT = `
local had = redis.call('EXISTS', KEYS[1])
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
redis.call('SADD', KEYS[4], ARGV[2])
return 1 - had
`;

/**
 * Same KEYS; ARGV: field, user, now, instance id. A socket this instance never counted
 * (its connect failed while Redis was away) changes nothing: no count goes below zero
 * and no other instance's field is touched. Returns 1 when the user went offline.
 */
const DISCONNECT = `
local n = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if n <= 0 then return 0 end
if n > 1 then
  redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
else
  redis.call('HDEL', KEYS[1], ARGV[1])
end
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
local mine = ARGV[4] .. '\\t'
local left = redis.call('HKEYS', KEYS[1])
for _, f in ipairs(left) do
  if string.sub(f, 1, #mine) == mine then return 0 end
end
redis.call('SREM', KEYS[4], ARGV[2])
if #left > 0 then return 0 end
redis.call('SREM', KEYS[2], ARGV[2])
return 1
`;

interface Scripts {
  warrenPresenceConnect(...args: string[]): Promise<number>;
  warrenPresenceDisconnect(...args: string[]): Promise<number>;
}

/** Presence shared by every instance: sockets counted per (user, device) per instance. */
export function createRedisPresence(redis: Redis, prefix: string, instanceId: string): PresenceStore {
  redis.defineCommand("warrenPresenceConnect", { numberOfKeys: 4, lua: CONNECT });
  redis.defineCommand("warrenPresenceDisconnect", { numberOfKeys: 4, lua: DISCONNECT });
  const run = redis as unknown as Scripts;
  const keys = (user: string) => [
    presenceKey(prefix, user),
    onlineKey(prefix),
    seenKey(prefix),
    instancePresenceKey(prefix, instanceId),
  ];
  const field = (device: string) => `${instanceId}\t${device}`;
  return {
    connect: async (user, device) =>
      (await run.warrenPresenceConnect(...keys(user), field(device), user, new Date().toISOString())) === 1,
    disconnect: async (user, device) =>
      (await run.warrenPresenceDisconnect(
        ...keys(user),
        field(device),
        user,
        new Date().toISOString(),
        instanceId,
      )) === 1,
    isOnline: async (user) => (await redis.sismember(onlineKey(prefix), user)) === 1,
    lastSeen: (user) => redis.hget(seenKey(prefix), user),
    onlineCount: () => redis.scard(onlineKey(prefix)),
  };
}
