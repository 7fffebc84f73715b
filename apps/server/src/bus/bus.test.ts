import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll } from "vitest";
import { busContract } from "./bus.contract.js";
import { createMemoryBus } from "./memory-bus.js";
import { createRedisBus } from "./redis-bus.js";

busContract("memory", createMemoryBus, async () => {});

const REDIS_URL = process.env.WARREN_TEST_REDIS || undefined;
if (REDIS_URL) {
  const clients: Redis[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
  });
  busContract(
    "redis",
    async () => {
      const redis = new Redis(REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
      clients.push(redis);
      await new Promise((resolve) => redis.once("ready", resolve));
      const prefix = `warren-test-${randomBytes(4).toString("hex")}:`;
      const bus = createRedisBus({ redis, prefix, instanceId: "a" });
      await new Promise((r) => setTimeout(r, 50));
      return bus;
    },
    () => new Promise((r) => setTimeout(r, 50)),
  );
} else {
  console.warn("Redis bus runs skipped: set WARREN_TEST_REDIS=redis://host:6379 to include them");
}
