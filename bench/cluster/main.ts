/**
 * `npm run bench -- cluster`: warren's relay through two instances and Redis against one
 * instance, in the same run, both on PostgreSQL. Method: bench/README.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { describeCode, describeMachine } from "../relay/proc.js";
import { fmt, log } from "../relay/report.js";
import { ROOT, type ServerProcess } from "../relay/servers.js";
import { type BenchRedis, connectRedis, createDatabase, POSTGRES_URL, REDIS_URL } from "./backends.js";
import { type ClusterConfig, FULL, QUICK } from "./config.js";
import { contextTable, ratios, table } from "./report.js";
import type { ClusterResults } from "./results.js";
import { startSetups } from "./setups.js";
import { benchSetups } from "./windows.js";

/** What was set up and torn down, for the JSON. */
interface Backends {
  postgres: string;
  redis: string;
  redis_key_prefix: string;
  redis_keys_deleted: number;
}

async function run(cfg: ClusterConfig, redis: BenchRedis, backends: Backends): Promise<ClusterResults> {
  const results: ClusterResults = {};
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "warren-bench-cluster-"));
  const running: ServerProcess[] = [];
  const db = await createDatabase();
  log(`PostgreSQL: database ${new URL(db.url).pathname.slice(1)}`);
  try {
    const setups = await startSetups(cfg, dataDir, db.url, redis.prefix, (s) => running.push(s));
    log("throughput and latency");
    await benchSetups(setups, redis, cfg, results);
    return results;
  } finally {
    await Promise.all(running.map((s) => s.stop()));
    rmSync(dataDir, { recursive: true, force: true });
    await db.drop().catch((err) => log(`could not drop the database: ${String(err)}`));
    backends.redis_keys_deleted = await redis.cleanup().catch((err) => {
      log(`could not delete the Redis keys: ${String(err)}`);
      return -1;
    });
  }
}

export async function runCluster(args: string[]): Promise<void> {
  const flags = new Set(["--quick", "--no-write"]);
  const unknown = args.filter((a) => !flags.has(a));
  if (unknown.length) throw new Error(`unknown option ${unknown.join(" ")}`);
  const quick = args.includes("--quick");
  const write = !args.includes("--no-write");
  const cfg = quick ? QUICK : FULL;
  const machine = describeMachine();
  // BENCH_WARREN_DIR: another checkout, as for relay (bench/relay/servers.ts starts it).
  const warrenDir = path.resolve(process.env.BENCH_WARREN_DIR ?? ROOT);
  const code = { warren_dir: warrenDir, ...describeCode(warrenDir) };
  const redis = await connectRedis();
  const hidePassword = (u: string) => u.replace(/\/\/[^@/]*@/, "//…@");
  const backends: Backends = {
    postgres: hidePassword(POSTGRES_URL),
    redis: hidePassword(REDIS_URL),
    redis_key_prefix: redis.prefix,
    redis_keys_deleted: 0,
  };
  const started = new Date();
  log(
    `cluster benchmark${quick ? " (quick)" : ""} on ${machine.nproc}× ${machine.cpu_model}, node ${machine.node}`,
  );
  const t0 = performance.now();
  const results = await run(cfg, redis, backends);
  log(`Redis: deleted ${backends.redis_keys_deleted} keys under ${redis.prefix}`);
  const q = ratios(results);
  const seconds = (performance.now() - t0) / 1000;
  const date = started.toISOString().slice(0, 10);
  const name = `cluster-${date}${quick ? "-quick" : ""}`;
  const md = [
    `# Cluster benchmark, ${date}${quick ? " (quick)" : ""}`,
    "",
    `${machine.nproc}× ${machine.cpu_model}, ${fmt(machine.mem_total_bytes / 2 ** 30, 1)} GiB, node ${machine.node}, ${machine.kernel}. ` +
      "One warren instance (in-process bus) against two instances sharing Redis, every sender on A and its receiver on B; " +
      "all three on one fresh PostgreSQL database. " +
      `${cfg.pairs} sender→receiver pairs per setup over ${cfg.pairWorkers} load processes each (window ${cfg.window}), ` +
      `${cfg.rounds} interleaved rounds per figure (${cfg.latencyRounds} for latency). warren at ${code.commit}${code.local_changes ? " with local changes" : ""}. ` +
      `Run took ${fmt(seconds, 0)} s. Raw numbers: ${name}.json; method: bench/README.md.`,
    "",
    table(results, q),
    "",
    contextTable(results, q),
    "",
  ].join("\n");
  process.stdout.write(`\n${md}\n`);
  if (write) {
    const dir = path.join(ROOT, "bench/results");
    mkdirSync(dir, { recursive: true });
    const json = {
      benchmark: "cluster",
      started_at: started.toISOString(),
      duration_seconds: seconds,
      code,
      machine,
      backends,
      config: cfg,
      results,
      ratios: q,
    };
    writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify(json, null, 2)}\n`);
    writeFileSync(path.join(dir, `${name}.md`), md);
    log(`wrote bench/results/${name}.json and .md`);
  }
}
