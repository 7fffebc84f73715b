import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createMemoryState, type SharedState } from "./index.js";
import { createRedisState } from "./redis-state.js";
import { stateContract } from "./state.contract.js";

stateContract("memory", async (options) => ({ state: createMemoryState(options), drop: async () => {} }));

describe("memory presence", () => {
  it("holds one device's one socket compactly and still counts every socket", async () => {
    const { presence } = createMemoryState({ messageRate: 10, messageBurst: 10 });
    expect(await presence.connect("u", "d1")).toBe(true);
    expect(await presence.disconnect("u", "d2")).toBe(false);
    expect(await presence.isOnline("u")).toBe(true);
    expect(await presence.disconnect("u", "d1")).toBe(true);
    expect(await presence.disconnect("u", "d1")).toBe(false);
    expect(await presence.connect("u", "d1")).toBe(true);
    expect(await presence.connect("u", "d2")).toBe(false);
    expect(await presence.disconnect("u", "d1")).toBe(false);
    expect(await presence.disconnect("u", "d2")).toBe(true);
    expect(await presence.onlineCount()).toBe(0);
  });
});

/** Redis runs need a server: CI sets WARREN_TEST_REDIS; elsewhere they are skipped with a reason. */
const REDIS_URL = process.env.WARREN_TEST_REDIS || undefined;
if (!REDIS_URL) {
  console.warn("Redis state runs skipped: set WARREN_TEST_REDIS=redis://127.0.0.1:6379 to include them");
}

/** One client per file, made as the server makes it: every call fails at once while Redis is away. */
let client: Promise<Redis> | undefined;
const connect = (url: string) => {
  client ??= new Promise<Redis>((resolve, reject) => {
    const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    redis.once("ready", () => resolve(redis));
    redis.once("error", reject);
  });
  return client;
};
afterAll(async () => {
  await (await client)?.quit();
});

/** Other test files share the server: every state lives under its own random prefix. */
const newPrefix = () => `warren-test:${randomBytes(6).toString("hex")}:`;

async function deleteKeys(redis: Redis, prefix: string) {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== "0");
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

if (REDIS_URL) {
  stateContract("redis", async (options) => {
    const redis = await connect(REDIS_URL);
    const keyPrefix = newPrefix();
    return {
      state: createRedisState({ redis, keyPrefix, instanceTtlMs: 30_000, ...options }),
      drop: () => deleteKeys(redis, keyPrefix),
    };
  });

  describe("redis state: several instances on one prefix", () => {
    let redis: Redis;
    let keyPrefix: string;
    afterEach(async () => {
      if (redis && keyPrefix) await deleteKeys(redis, keyPrefix);
    });
    /** Instances of one deployment: same prefix, different ids. */
    const instancesOf = async (
      ids: string[],
      over: { instanceTtlMs?: number; messageBurst?: number } = {},
    ) => {
      redis = await connect(REDIS_URL);
      keyPrefix = newPrefix();
      return ids.map((instanceId) =>
        createRedisState({
          redis,
          keyPrefix,
          instanceId,
          instanceTtlMs: over.instanceTtlMs ?? 30_000,
          messageRate: 0.5,
          messageBurst: over.messageBurst ?? 10,
        }),
      );
    };
    const pair = (user: string, device: string) => ({ user, device });
    const byPair = (a: { user: string; device: string }, b: { user: string; device: string }) =>
      `${a.user}\t${a.device}`.localeCompare(`${b.user}\t${b.device}`);

    it("keeps a user connected through both online until both disconnect", async () => {
      const [a, b] = (await instancesOf(["a", "b"])) as [SharedState, SharedState];
      expect(await a.presence.connect("u", "d1")).toBe(true);
      expect(await b.presence.connect("u", "d2")).toBe(false);
      expect(await a.devices.open("u", "d1")).toBe(true);
      expect(await b.devices.open("u", "d1")).toBe(false);
      expect(await a.presence.onlineCount()).toBe(1);
      expect(await a.presence.disconnect("u", "d1")).toBe(false);
      expect(await a.presence.isOnline("u")).toBe(true);
      // a's socket count never covered b's: a second disconnect through a changes nothing
      expect(await a.presence.disconnect("u", "d2")).toBe(false);
      expect(await a.devices.close("u", "d1")).toBe(false);
      expect(await b.devices.online([pair("u", "d1")])).toEqual(new Set(["d1"]));
      expect(await b.presence.disconnect("u", "d2")).toBe(true);
      expect(await b.devices.close("u", "d1")).toBe(true);
      expect(await a.presence.isOnline("u")).toBe(false);
    });

    it("holds a bucket's limit across instances", async () => {
      const [a, b] = (await instancesOf(["a", "b"], { messageBurst: 10 })) as [SharedState, SharedState];
      const results = [];
      for (let i = 0; i < 10; i++) results.push(await (i % 2 ? a : b).messageBuckets.take("u"));
      expect(results.every((r) => r.ok)).toBe(true);
      const [fromA, fromB] = [await a.messageBuckets.take("u"), await b.messageBuckets.take("u")];
      expect(fromA.ok || fromB.ok).toBe(false);
      expect(fromB.retryAfterMs).toBeGreaterThan(0);
      expect(fromB.retryAfterMs).toBeLessThanOrEqual(2000);
    });

    it("leases tokens a few at a time and never lets more than the burst through across instances", async () => {
      const [a, b] = (await instancesOf(["a", "b"], { messageBurst: 100 })) as [SharedState, SharedState];
      let ok = 0;
      let sync = 0;
      for (let i = 0; i < 300; i++) {
        const taken = (i % 3 ? a : b).messageBuckets.take("u");
        if (!(taken instanceof Promise)) sync += 1;
        if ((await taken).ok) ok += 1;
      }
      // burst 100 leases 5 at a time: most takes answer from the lease, without Redis
      expect(ok).toBeLessThanOrEqual(101);
      expect(ok).toBeGreaterThanOrEqual(90);
      expect(sync).toBeGreaterThan(50);
    });

    it("never reaps itself, however late its beat", async () => {
      const [solo] = (await instancesOf(["solo"], { instanceTtlMs: 300 })) as [SharedState];
      await solo.instances.beat();
      await solo.presence.connect("u", "d");
      await solo.devices.open("u", "d");
      await sleep(400);
      expect(await solo.instances.reap()).toEqual({ users: [], devices: [] });
      expect(await solo.presence.isOnline("u")).toBe(true);
      expect(await solo.devices.online([pair("u", "d")])).toEqual(new Set(["d"]));
    });

    it("reaps an instance that stopped beating, through one live instance, once", async () => {
      const [a, b, c] = (await instancesOf(["a", "b", "c"], { instanceTtlMs: 300 })) as [
        SharedState,
        SharedState,
        SharedState,
      ];
      await Promise.all([a, b, c].map((s) => s.instances.beat()));
      await b.presence.connect("u1", "d1");
      await b.devices.open("u1", "d1");
      await b.presence.connect("u2", "d2");
      await b.devices.open("u2", "d2");
      await b.presence.connect("u2", "d3");
      await b.devices.open("u2", "d3");
      await a.presence.connect("u2", "d2");
      await a.devices.open("u2", "d2");
      await sleep(400);
      await a.instances.beat();
      await c.instances.beat();
      // two live instances reap at once: only one of them takes b's sockets out
      const [byA, byC] = await Promise.all([a.instances.reap(), c.instances.reap()]);
      const users = [...byA.users, ...byC.users];
      const devices = [...byA.devices, ...byC.devices].sort(byPair);
      expect(users).toEqual(["u1"]);
      expect(devices).toEqual([pair("u1", "d1"), pair("u2", "d3")]);
      expect(byA.users.length === 0 || byC.users.length === 0).toBe(true);
      expect(await a.presence.isOnline("u1")).toBe(false);
      expect(await a.presence.isOnline("u2")).toBe(true);
      expect(await a.presence.onlineCount()).toBe(1);
      expect(await a.presence.lastSeen("u1")).not.toBeNull();
      expect(await a.devices.online([pair("u1", "d1"), pair("u2", "d2"), pair("u2", "d3")])).toEqual(
        new Set(["d2"]),
      );
      expect(await a.instances.reap()).toEqual({ users: [], devices: [] });
      expect(await a.presence.disconnect("u2", "d2")).toBe(true);
      // b was only slow: its next beat says it was dropped, so it restores its share
      expect(await a.instances.beat()).toBe(true);
      expect(await b.instances.beat()).toBe(false);
      expect(await b.instances.beat()).toBe(true);
    });

    it("restores an instance's share after Redis lost its keys, and only that share", async () => {
      const [a, b] = (await instancesOf(["a", "b"])) as [SharedState, SharedState];
      const sockets = [pair("u1", "d1"), pair("u1", "d1"), pair("u2", "d2")];
      for (const s of sockets) {
        await a.presence.connect(s.user, s.device);
        await a.devices.open(s.user, s.device);
      }
      await a.rooms.add("r", "u1", 10);
      await a.rooms.add("r", "u2", 10);
      await b.presence.connect("u3", "d3");
      await deleteKeys(redis, keyPrefix);
      expect(await a.presence.onlineCount()).toBe(0);

      const snapshot = {
        sockets,
        rooms: [
          { room: "r", user: "u1" },
          { room: "r", user: "u2" },
        ],
      };
      await a.instances.restore(snapshot);
      await a.instances.restore(snapshot);
      expect(await a.presence.onlineCount()).toBe(2);
      expect(await b.presence.isOnline("u1")).toBe(true);
      expect(await b.devices.online([pair("u1", "d1"), pair("u2", "d2")])).toEqual(new Set(["d1", "d2"]));
      expect((await b.rooms.members("r")).sort()).toEqual(["u1", "u2"]);
      expect(await b.rooms.shareRoom("u1", "u2")).toBe(true);
      expect(await b.presence.lastSeen("u1")).not.toBeNull();
      // a beat came with it: another instance does not take a for dead
      expect(await b.instances.reap()).toEqual({ users: [], devices: [] });
      expect(await a.presence.disconnect("u1", "d1")).toBe(false);
      expect(await a.presence.disconnect("u1", "d1")).toBe(true);
      expect(await a.devices.close("u2", "d2")).toBe(true);
    });

    it("restore sets this instance's counts exactly and leaves other instances' alone", async () => {
      const [a, b] = (await instancesOf(["a", "b"])) as [SharedState, SharedState];
      await a.presence.connect("u1", "d1");
      await a.devices.open("u1", "d1");
      await a.presence.connect("u4", "d4");
      await a.devices.open("u4", "d4");
      await b.presence.connect("u1", "d1");
      await b.devices.open("u1", "d1");
      await b.presence.connect("u5", "d5");
      await a.instances.restore({ sockets: [pair("u1", "d1"), pair("u1", "d1")], rooms: [] });
      expect(await b.presence.isOnline("u4")).toBe(false);
      expect(await b.devices.online([pair("u4", "d4")])).toEqual(new Set());
      expect(await b.presence.isOnline("u5")).toBe(true);
      expect(await a.presence.onlineCount()).toBe(2);
      expect(await a.presence.disconnect("u1", "d1")).toBe(false);
      expect(await a.presence.disconnect("u1", "d1")).toBe(false);
      expect(await a.presence.disconnect("u1", "d1")).toBe(false);
      expect(await a.devices.close("u1", "d1")).toBe(false);
      expect(await a.devices.close("u1", "d1")).toBe(false);
      expect(await b.presence.disconnect("u1", "d1")).toBe(true);
      expect(await b.devices.close("u1", "d1")).toBe(true);
    });
  });
}

describe("redis state while Redis is unreachable", () => {
  it("keeps limiting with this process's own buckets", async () => {
    const redis = new Redis("redis://127.0.0.1:1", {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    redis.on("error", () => {});
    try {
      const state = createRedisState({
        redis,
        keyPrefix: newPrefix(),
        instanceId: "alone",
        instanceTtlMs: 30_000,
        messageRate: 1,
        messageBurst: 3,
      });
      for (let i = 0; i < 3; i++) expect((await state.messageBuckets.take("u")).ok).toBe(true);
      const refused = await state.messageBuckets.take("u");
      expect(refused.ok).toBe(false);
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(1000);
      state.messageBuckets.drop("u");
      expect((await state.messageBuckets.take("u")).ok).toBe(true);
      // the other stores have no fallback: they fail at once and the hub decides
      await expect(state.presence.connect("u", "d")).rejects.toThrow();
      await expect(state.devices.online([{ user: "u", device: "d" }])).rejects.toThrow();
      await expect(state.rooms.shareRoom("a", "b")).rejects.toThrow();
      await expect(state.instances.reap()).rejects.toThrow();
    } finally {
      redis.disconnect();
    }
  });
});
