/**
 * The cluster benchmark's PostgreSQL database and Redis: a fresh database per run
 * (dropped at the end), a random key prefix per run (its keys deleted at the end), and
 * Redis's own CPU time and command counts read with INFO.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { Redis } from "ioredis";
import pg from "pg";

export const POSTGRES_URL = process.env.BENCH_POSTGRES_URL || "postgres://postgres@127.0.0.1:5432/test";
export const REDIS_URL = process.env.BENCH_REDIS_URL || "redis://127.0.0.1:6379";

export interface BenchDatabase {
  /** DATABASE_URL of the fresh database */
  url: string;
  drop(): Promise<void>;
}

async function admin<T>(f: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 10_000 });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

/** CREATE DATABASE warren_bench_<hex> on the server of POSTGRES_URL. */
export async function createDatabase(): Promise<BenchDatabase> {
  const name = `warren_bench_${randomBytes(6).toString("hex")}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}

/** Calls and time Redis spent in one command (INFO commandstats). */
export interface CommandStat {
  calls: number;
  usec: number;
}

export interface RedisSample {
  /** used_cpu_user + used_cpu_sys, seconds */
  cpu: number;
  /** read and write events Redis handled (total_reads_processed, total_writes_processed) */
  reads: number;
  writes: number;
  commands: Record<string, CommandStat>;
}

export interface BenchRedis {
  /** REDIS_KEY_PREFIX of this run: hex only, so it needs no escaping in a SCAN pattern */
  prefix: string;
  sample(): Promise<RedisSample>;
  /** Deletes every key under the prefix (bounded) and closes the connection; the count. */
  cleanup(): Promise<number>;
}

function parseInfo(text: string): RedisSample {
  const field = (name: string) => Number(new RegExp(`^${name}:([0-9.]+)`, "m").exec(text)?.[1] ?? Number.NaN);
  const commands: Record<string, CommandStat> = {};
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    commands[m[1] as string] = { calls: Number(m[2]), usec: Number(m[3]) };
  }
  return {
    cpu: field("used_cpu_user") + field("used_cpu_sys"),
    reads: field("total_reads_processed"),
    writes: field("total_writes_processed"),
    commands,
  };
}

/** `b - a` per command, leaving out commands that were not called in between. */
export function commandDelta(a: RedisSample, b: RedisSample): Record<string, CommandStat> {
  const out: Record<string, CommandStat> = {};
  for (const [name, s] of Object.entries(b.commands)) {
    const before = a.commands[name] ?? { calls: 0, usec: 0 };
    if (s.calls > before.calls) out[name] = { calls: s.calls - before.calls, usec: s.usec - before.usec };
  }
  return out;
}

export async function connectRedis(): Promise<BenchRedis> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, lazyConnect: true, connectTimeout: 5000 });
  redis.on("error", () => {});
  await redis.connect();
  const prefix = `warren-bench-${randomBytes(4).toString("hex")}:`;
  return {
    prefix,
    sample: async () => parseInfo(String(await redis.call("INFO", "cpu", "stats", "commandstats"))),
    async cleanup() {
      let deleted = 0;
      let cursor = "0";
      const until = performance.now() + 30_000;
      try {
        for (let i = 0; i < 10_000 && performance.now() < until; i++) {
          const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
          if (keys.length) deleted += await redis.unlink(...keys);
          cursor = next;
          if (cursor === "0") break;
        }
      } finally {
        await redis.quit().catch(() => redis.disconnect());
      }
      return deleted;
    },
  };
}
