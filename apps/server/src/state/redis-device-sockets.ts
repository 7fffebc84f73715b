import type { Redis } from "ioredis";
import type { DeviceSockets } from "./device-sockets.js";

/**
 * Keys: `<p>device:<user>\t<device>` HASH instance id → sockets, deleted
 * with its last field, so "online" is EXISTS; `<p>instance:<id>:devices` SET of the
 * `<user>\t<device>` pairs the instance counts, for reaping it (redis-instances.ts).
 * Independent of presence keys: the hub counts each socket in both.
 */
export const devicePair = (user: string, device: string) => `${user}\t${device}`;
export const deviceKey = (prefix: string, pair: string) => `${prefix}device:${pair}`;
export const instanceDevicesKey = (prefix: string, id: string) => `${prefix}instance:${id}:devices`;

/** User ids never hold a tab; device ids are the client's word and may, so split at the first. */
export function splitPair(pair: string): { user: string; device: string } {
  const tab = pair.indexOf("\t");
  return { user: pair.slice(0, tab), device: pair.slice(tab + 1) };
}

/** KEYS: device hash, instance set. ARGV: instance id, pair. Returns 1 when the device came online. */
const OPEN = `
local had = redis.call('EXISTS', KEYS[1])
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('SADD', KEYS[2], ARGV[2])
return 1 - had
`;

/** Same KEYS and ARGV. A socket never counted here changes nothing. Returns 1 when the device went offline. */
const CLOSE = `
local n = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if n <= 0 then return 0 end
if n > 1 then
  redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
  return 0
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[2])
return 1 - redis.call('EXISTS', KEYS[1])
`;

interface Scripts {
  warrenDeviceOpen(key: string, instanceSet: string, id: string, pair: string): Promise<number>;
  warrenDeviceClose(key: string, instanceSet: string, id: string, pair: string): Promise<number>;
}

/** Device sockets shared by every instance, counted per instance. */
export function createRedisDeviceSockets(redis: Redis, prefix: string, instanceId: string): DeviceSockets {
  redis.defineCommand("warrenDeviceOpen", { numberOfKeys: 2, lua: OPEN });
  redis.defineCommand("warrenDeviceClose", { numberOfKeys: 2, lua: CLOSE });
  const run = redis as unknown as Scripts;
  const mine = instanceDevicesKey(prefix, instanceId);
  const call = (script: "warrenDeviceOpen" | "warrenDeviceClose", user: string, device: string) => {
    const pair = devicePair(user, device);
    return run[script](deviceKey(prefix, pair), mine, instanceId, pair);
  };
  return {
    open: async (user, device) => (await call("warrenDeviceOpen", user, device)) === 1,
    close: async (user, device) => (await call("warrenDeviceClose", user, device)) === 1,
    async online(pairs) {
      if (pairs.length === 0) return new Set();
      // A peer list asks for a few hundred devices at once: one pipelined round trip.
      const pipeline = redis.pipeline();
      for (const p of pairs) pipeline.exists(deviceKey(prefix, devicePair(p.user, p.device)));
      const replies = (await pipeline.exec()) ?? [];
      const online = new Set<string>();
      replies.forEach(([error, exists], i) => {
        if (error) throw error;
        const pair = pairs[i];
        if (pair && exists === 1) online.add(pair.device);
      });
      return online;
    },
  };
}
