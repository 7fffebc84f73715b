import type { Redis } from "ioredis";
import type { SharedState } from "./index.js";
import { createRedisDeviceSockets } from "./redis-device-sockets.js";
import { createRedisInstances } from "./redis-instances.js";
import { createRedisPresence } from "./redis-presence.js";
import { createRedisRateBuckets } from "./redis-rate-buckets.js";
import { createRedisRoomMembers } from "./redis-room-members.js";

export interface RedisStateOptions {
  /**
   * The command connection, made with `enableOfflineQueue: false, maxRetriesPerRequest: 1`
   * so every call fails at once while Redis is down. Must not set ioredis's own keyPrefix:
   * the scripts build some keys themselves from `keyPrefix`.
   */
  redis: Redis;
  /** start of every key (REDIS_KEY_PREFIX) */
  keyPrefix: string;
  /** this instance's name (INSTANCE_ID): the owner of the counts it writes */
  instanceId: string;
  /** an instance silent this long counts as dead (INSTANCE_TTL) */
  instanceTtlMs: number;
  messageRate: number;
  messageBurst: number;
}

/**
 * The hub's shared state in one Redis, for several instances. Every key starts
 * with `keyPrefix`; the key layout is described in each store's file and in
 * docs/operations.md. Scripts assume one Redis server (not a cluster).
 */
export function createRedisState(options: RedisStateOptions): SharedState {
  const { redis, keyPrefix: prefix, instanceId } = options;
  return {
    shared: true,
    rooms: createRedisRoomMembers(redis, prefix),
    presence: createRedisPresence(redis, prefix, instanceId),
    messageBuckets: createRedisRateBuckets(redis, prefix, {
      rate: options.messageRate,
      burst: options.messageBurst,
    }),
    devices: createRedisDeviceSockets(redis, prefix, instanceId),
    instances: createRedisInstances(redis, prefix, { instanceId, instanceTtlMs: options.instanceTtlMs }),
  };
}
