import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { POSTGRES_URL, postgresBackend, type TestDatabase } from "../helpers/backends.js";
import {
  type Env,
  freePort,
  removeTempDirs,
  type ServerProcess,
  startWarren,
  stopAll,
} from "../helpers/process.js";
import { type Api, apiFor } from "../helpers/server.js";

/**
 * Real clusters for the cluster suites: three (or more) `warren server` processes on
 * their own loopback ports, one PostgreSQL database and one private `redis-server` per
 * suite, so stopping Redis (or PostgreSQL, in the restart suite) touches no other
 * suite. Every wait is bounded; `close()` leaves no process, database or directory.
 */

export const REDIS_SWITCH = process.env.WARREN_TEST_REDIS || undefined;

const onPath = (bin: string) => spawnSync("sh", ["-c", `command -v ${bin}`]).status === 0;

/** Why the cluster suites cannot run here, or undefined when they can. */
export function clusterSkipReason(): string | undefined {
  if (!POSTGRES_URL) return "set WARREN_TEST_POSTGRES=postgres://user@host:5432/db to include it";
  if (!REDIS_SWITCH)
    return "set WARREN_TEST_REDIS=redis://host:6379 to include it (it runs its own redis-server)";
  if (!onPath("redis-server")) return "redis-server is not installed";
  return undefined;
}

/** True when `suite` must be skipped; prints the reason once. */
export function skipCluster(suite: string, extra?: () => string | undefined): boolean {
  const reason = clusterSkipReason() ?? extra?.();
  if (reason) console.warn(`${suite} not run: ${reason}`);
  return reason !== undefined;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Calls `check` until it returns a truthy value without throwing, every `intervalMs`;
 * after `timeoutMs` throws with the last error (or value) so the failure says why.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  timeoutMs = 30_000,
  what = "a condition",
  intervalMs = 200,
): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) {
      const why = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${why}`);
    }
    await sleep(intervalMs);
  }
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------- Redis

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly up: boolean;
  /** Starts it again on the same port (empty: it keeps nothing on disk). */
  start(): Promise<void>;
  /** SIGKILL, as a crash would, and waits for the exit. */
  stop(): Promise<void>;
  /** One redis-cli command; its output. */
  cli(...args: string[]): Promise<string>;
}

const redisChildren = new Set<ChildProcess>();

function spawnRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  redisChildren.add(child);
  child.once("exit", () => redisChildren.delete(child));
  let out = "";
  const ready = new Promise<ChildProcess>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("Ready to accept connections")) resolve(child);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`redis-server on ${port} exited (${code}): ${out}`)));
    child.once("error", reject);
  });
  return bounded(ready, 15_000, `redis-server on port ${port} to be ready`).catch(async (err) => {
    child.kill("SIGKILL");
    await exitOf(child);
    throw err;
  });
}

/** A private redis-server on a free loopback port. */
export async function startRedis(): Promise<RedisServer> {
  let child: ChildProcess | undefined;
  let port = 0;
  for (let attempt = 0; !child; attempt++) {
    port = await freePort();
    try {
      child = await spawnRedis(port);
    } catch (err) {
      if (attempt >= 2) throw err;
    }
  }
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get up() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    async start() {
      if (server.up) return;
      // The port was ours a moment ago; retry briefly in case the kernel still holds it.
      for (let attempt = 0; ; attempt++) {
        try {
          child = await spawnRedis(port);
          return;
        } catch (err) {
          if (attempt >= 10) throw err;
          await sleep(300);
        }
      }
    },
    async stop() {
      const c = child;
      if (!c) return;
      c.kill("SIGKILL");
      await bounded(exitOf(c), 10_000, "redis-server to exit");
    },
    cli: (...args) =>
      new Promise((resolve, reject) => {
        execFile("redis-cli", ["-p", String(port), ...args], { timeout: 10_000 }, (err, stdout) =>
          err ? reject(err) : resolve(stdout),
        );
      }),
  };
  return server;
}

async function stopRedisAll(): Promise<void> {
  await Promise.all(
    [...redisChildren].map((c) => {
      c.kill("SIGKILL");
      return bounded(exitOf(c), 10_000, "redis-server to exit");
    }),
  );
}

// ---------------------------------------------------------------- a private PostgreSQL

export interface PrivatePostgres {
  readonly url: string;
  /** `pg_ctl restart -m fast`: every connection is cut, the server is back when it returns. */
  restart(): Promise<void>;
  /** Stops it and removes its directory. */
  remove(): Promise<void>;
}

/** The newest PostgreSQL server binaries under /usr/lib/postgresql, if any. */
export function postgresBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : path.join(root, versions[0], "bin");
}

/** Why a private PostgreSQL cannot be made here, or undefined. */
export function privatePostgresSkipReason(): string | undefined {
  if (!postgresBinDir()) return "no PostgreSQL server binaries under /usr/lib/postgresql";
  if (process.getuid?.() === 0 && (!onPath("runuser") || spawnSync("id", ["-u", "postgres"]).status !== 0))
    return "running as root without runuser or a postgres user to own the cluster";
  return undefined;
}

/**
 * Runs a PostgreSQL tool as the user `postgres` (it refuses to run as root). Settles on
 * the tool's exit, not on its pipes closing: a postmaster it starts may inherit them.
 */
function pgTool(tool: string, args: string[], timeoutMs = 90_000): Promise<string> {
  const bin = path.join(postgresBinDir() as string, tool);
  const [cmd, argv] =
    process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", bin, ...args]] : [bin, args];
  const child = spawn(cmd, argv, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  const done = new Promise<string>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code, signal) =>
      code === 0 ? resolve(out) : reject(new Error(`${tool} ${args.join(" ")}: ${code ?? signal}\n${out}`)),
    );
  });
  return bounded(done, timeoutMs, `${tool} ${args.join(" ")}`).catch((err) => {
    child.kill("SIGKILL");
    throw err;
  });
}

/** A throwaway PostgreSQL cluster (initdb) on a free loopback port, owned by `postgres`. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = mkdtempSync(path.join(tmpdir(), "warren-pg-"));
  if (process.getuid?.() === 0) {
    const uid = Number(spawnSync("id", ["-u", "postgres"]).stdout.toString());
    const gid = Number(spawnSync("id", ["-g", "postgres"]).stdout.toString());
    chownSync(dir, uid, gid);
  }
  const data = path.join(dir, "data");
  const port = await freePort();
  await pgTool("initdb", ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"]).catch(
    (err) => {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    },
  );
  // fsync off: a fast restart is a clean shutdown (a checkpoint), so it does not change
  // what survives; it only matters for power loss, which this suite does not simulate.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  // -l every time: without it the postmaster writes to (and holds) pg_ctl's own stdout
  const ctl = (...args: string[]) =>
    pgTool("pg_ctl", ["-D", data, "-w", "-t", "60", "-l", path.join(dir, "log"), ...args]);
  const remove = async () => {
    if (existsSync(path.join(data, "postmaster.pid"))) await ctl("-m", "immediate", "stop").catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await ctl("-o", options, "start");
  } catch (err) {
    await remove();
    throw err;
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    restart: async () => {
      await ctl("-m", "fast", "restart");
    },
    remove,
  };
}

// ---------------------------------------------------------------- warren instances

export interface Instance {
  /** "A", "B", "C", … */
  readonly name: string;
  readonly url: string;
  readonly api: Api;
  readonly proc: ServerProcess;
  alive(): boolean;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
}

export interface Cluster {
  readonly instances: Instance[];
  readonly redis: RedisServer;
  readonly databaseUrl: string;
  /** GET /ready of instance `i`: its status. */
  ready(i: number): Promise<number>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  /** how many instances (3) */
  count?: number;
  /** settings on top of the suite's defaults */
  env?: Env;
  /** an existing database (the PostgreSQL-restart suite); otherwise a fresh one is made and dropped */
  databaseUrl?: string;
}

/**
 * Starts a private Redis and `count` instances sharing it, one PostgreSQL database and
 * one JWT_SECRET (so a token from one instance is good on every other, as behind a load
 * balancer). The first instance migrates the database alone; the others start together.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const count = options.count ?? 3;
  let made: TestDatabase | undefined;
  let redis: RedisServer | undefined;
  try {
    if (!options.databaseUrl) made = await (postgresBackend as NonNullable<typeof postgresBackend>).create();
    const databaseUrl = options.databaseUrl ?? (made?.databaseUrl as string);
    redis = await startRedis();
    const env: Env = {
      HOST: "127.0.0.1",
      PORT: "0",
      LOG_LEVEL: "warn",
      DATABASE_URL: databaseUrl,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: `wt${randomBytes(3).toString("hex")}:`,
      JWT_SECRET: randomBytes(32).toString("hex"),
      // Every client here comes from 127.0.0.1: per-address limits would only measure the suite.
      UPGRADE_RATE_LIMIT: "100000",
      LOGIN_MAX_FAILURES_PER_IP: "100000",
      ...options.env,
    };
    const names = Array.from({ length: count }, (_, i) => String.fromCharCode(65 + i));
    const start = async (name: string): Promise<Instance> => {
      const proc = await startWarren({ env: { ...env, INSTANCE_ID: `cluster-${name}` }, timeoutMs: 60_000 });
      const url = `http://127.0.0.1:${proc.port}`;
      return {
        name,
        url,
        api: apiFor(url),
        proc,
        alive: () => proc.child.exitCode === null && proc.child.signalCode === null,
        kill: () => proc.kill(),
      };
    };
    const first = await start(names[0] as string);
    const rest = await Promise.all(names.slice(1).map(start));
    const instances = [first, ...rest];
    const r = redis;
    return {
      instances,
      redis: r,
      databaseUrl,
      async ready(i) {
        const res = await (instances[i] as Instance).api("GET", "/ready");
        return res.status;
      },
      async close() {
        await stopAll();
        await r.stop();
        await made?.drop();
        removeTempDirs();
      },
    };
  } catch (err) {
    await stopAll();
    await stopRedisAll();
    await made?.drop();
    removeTempDirs();
    throw err;
  }
}
