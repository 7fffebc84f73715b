/**
 * Throughput and latency windows of both setups, interleaved (bench/relay/pairs.ts's
 * method): each setup has its own load processes holding its pairs, and only one setup
 * is driven at a time. Server CPU of a window is the setup's instances from /proc, plus
 * Redis's own CPU (INFO cpu) for the cluster.
 */
import { performance } from "node:perf_hooks";
import { sleep } from "../relay/config.js";
import { all, Load } from "../relay/load-client.js";
import type { Snapshot } from "../relay/messages.js";
import { interleave, sortedSamples } from "../relay/pairs.js";
import { cpuSeconds, machineBusySeconds, syscalls } from "../relay/proc.js";
import { fmt, log } from "../relay/report.js";
import { percentile, sum } from "../relay/results.js";
import { type BenchRedis, commandDelta, type RedisSample } from "./backends.js";
import { type ClusterConfig, SETUPS, type Setup } from "./config.js";
import {
  type ClusterResults,
  type ClusterWindow,
  type Delivery,
  type LatencyWindow,
  slot,
  summariseLatency,
  summariseThroughput,
} from "./results.js";
import type { Setups } from "./setups.js";

interface Clocks {
  at: number;
  /** CPU seconds and system calls of every instance of both setups (Setups.all order) */
  instances: number[];
  syscalls: { reads: number; writes: number }[];
  redis: RedisSample;
  machine: number;
  snapshots: Snapshot[];
}

interface Context {
  setups: Setups;
  redis: BenchRedis;
  loads: Record<Setup, Load[]>;
  cfg: ClusterConfig;
}

async function clocks(ctx: Context, setup: Setup): Promise<Clocks> {
  const [redis, snapshots] = await Promise.all([
    ctx.redis.sample(),
    Promise.all(ctx.loads[setup].map((l) => l.snapshot())),
  ]);
  return {
    at: performance.now(),
    instances: ctx.setups.all.map((s) => cpuSeconds(s.pid)),
    syscalls: ctx.setups.all.map((s) => syscalls(s.pid)),
    redis,
    machine: machineBusySeconds(),
    snapshots,
  };
}

/** The window between two clock readings, for `setup`. */
function window(ctx: Context, setup: Setup, c0: Clocks, c1: Clocks): ClusterWindow & { firstError?: string } {
  const seconds = (c1.at - c0.at) / 1000;
  const delta = (f: (s: Snapshot) => number) => sum(c1.snapshots.map(f)) - sum(c0.snapshots.map(f));
  const cpu = ctx.setups.all.map((_, i) => (c1.instances[i] ?? 0) - (c0.instances[i] ?? 0));
  const indices = ctx.setups.instances[setup].map((s) => ctx.setups.all.indexOf(s));
  const mine = indices.map((i) => cpu[i] ?? 0);
  const calls = (f: (x: { reads: number; writes: number }) => number) =>
    indices.map(
      (i) => f(c1.syscalls[i] ?? { reads: 0, writes: 0 }) - f(c0.syscalls[i] ?? { reads: 0, writes: 0 }),
    );
  const redisCpu = c1.redis.cpu - c0.redis.cpu;
  const loadCpu = delta((s) => s.cpuUs) / 1e6;
  const machine = c1.machine - c0.machine;
  const { info: _, ...commands } = commandDelta(c0.redis, c1.redis);
  const firstError = c1.snapshots.find((s) => s.firstError)?.firstError;
  return {
    seconds,
    relayed: delta((s) => s.received),
    sent: delta((s) => s.sent),
    errors: delta((s) => s.errors),
    instance_cpu_s: mine,
    instance_reads: calls((x) => x.reads),
    instance_writes: calls((x) => x.writes),
    redis_cpu_s: redisCpu,
    redis_reads: c1.redis.reads - c0.redis.reads,
    redis_writes: c1.redis.writes - c0.redis.writes,
    server_cpu_s: sum(mine) + (setup === "cluster" ? redisCpu : 0),
    load_cpu_s: loadCpu,
    machine_cpu_s: machine,
    other_cores: (machine - sum(cpu) - redisCpu - loadCpu) / seconds,
    redis_commands: commands,
    used: false,
    ...(firstError !== undefined && { firstError }),
  };
}

async function throughputWindow(ctx: Context, setup: Setup, warmupMs: number, measureMs: number) {
  const { cfg } = ctx;
  const loads = ctx.loads[setup];
  const start = { window: cfg.window, maxBufferedBytes: cfg.maxBufferedBytes };
  await all(loads, () => ({ cmd: "throughput.start", mode: "warren", ...start }), "ok", 10_000);
  await sleep(warmupMs);
  const c0 = await clocks(ctx, setup);
  await sleep(measureMs);
  const c1 = await clocks(ctx, setup);
  await all(loads, () => ({ cmd: "throughput.stop", drainMs: 3000 }), "snapshot", 10_000);
  return window(ctx, setup, c0, c1);
}

async function latencyWindow(ctx: Context, setup: Setup): Promise<LatencyWindow> {
  const { cfg } = ctx;
  const loads = ctx.loads[setup];
  const pending = all(
    loads,
    () => ({
      cmd: "latency",
      mode: "warren",
      rate: cfg.latencyRate / loads.length,
      warmupMs: cfg.latencyRoundWarmupMs,
      durationMs: cfg.latencyRoundMs,
      drainMs: 500,
    }),
    "latency",
    cfg.latencyRoundWarmupMs + cfg.latencyRoundMs + 30_000,
  );
  await sleep(cfg.latencyRoundWarmupMs);
  const c0 = await clocks(ctx, setup);
  await sleep(cfg.latencyRoundMs);
  const c1 = await clocks(ctx, setup);
  const reports = (await pending).map((r) => r.report);
  const { firstError: _, ...w } = window(ctx, setup, c0, c1);
  return { ...w, reports };
}

/** Waits (at most 15 s) until every frame sent was received or refused; the counts. */
async function delivery(ctx: Context, setup: Setup): Promise<Delivery> {
  const t0 = performance.now();
  for (let i = 0; ; i++) {
    const s = await Promise.all(ctx.loads[setup].map((l) => l.snapshot()));
    const sent = sum(s.map((x) => x.sent));
    const received = sum(s.map((x) => x.received));
    const errors = sum(s.map((x) => x.errors));
    const waited = performance.now() - t0;
    if (sent - received - errors <= 0 || waited > 15_000 || i >= 300)
      return { sent, received, errors, undelivered: sent - received - errors, waited_ms: waited };
    await sleep(100);
  }
}

const cpuText = (ctx: Context, setup: Setup, w: ClusterWindow) => {
  const us = (s: number) => fmt((s / w.relayed) * 1e6, 2);
  const parts = ctx.setups.instances[setup].map((s, i) => `${s.role} ${us(w.instance_cpu_s[i] ?? 0)}`);
  if (setup === "cluster") parts.push(`redis ${us(w.redis_cpu_s)}`);
  return `${us(w.server_cpu_s)} µs/msg (${parts.join(", ")})  server ${fmt(w.server_cpu_s / w.seconds, 2)} load ${fmt(w.load_cpu_s / w.seconds, 2)} else ${fmt(w.other_cores, 2)} cores`;
};

/** Sets up both setups' pairs, then measures saturation and latency, interleaved. */
export async function benchSetups(
  setups: Setups,
  redis: BenchRedis,
  cfg: ClusterConfig,
  results: ClusterResults,
): Promise<void> {
  const start = () => Array.from({ length: cfg.pairWorkers }, () => Load.start());
  const ctx: Context = { setups, redis, cfg, loads: { single: start(), cluster: start() } };
  try {
    for (const setup of SETUPS) {
      const specs = setups.specs[setup];
      log(`  ${setup}: setting up ${specs.length} pairs`);
      await all(
        ctx.loads[setup],
        (i) => ({
          cmd: "pairs",
          mode: "warren",
          pairs: specs.filter((_, k) => k % cfg.pairWorkers === i),
          timeoutMs: 60_000,
        }),
        "ok",
        70_000,
      );
    }
    for (const setup of SETUPS) {
      log(`  ${setup}: warming up for ${cfg.warmupMs / 1000} s at saturation`);
      await throughputWindow(ctx, setup, cfg.warmupMs, 200);
    }

    log(`  saturation: ${cfg.rounds} windows of ${cfg.throughputRoundMs / 1000} s per setup, interleaved`);
    const t = await interleave(
      SETUPS,
      cfg,
      cfg.throughputBudgetMs,
      (setup) => throughputWindow(ctx, setup, cfg.throughputRoundWarmupMs, cfg.throughputRoundMs),
      (setup, w) =>
        log(
          `    ${setup.padEnd(7)} ${fmt(w.relayed / w.seconds, 0).padStart(7)} msg/s  ${cpuText(ctx, setup, w)}${w.errors ? `  errors ${w.errors}: ${w.firstError}` : ""}`,
        ),
    );
    for (const setup of SETUPS) slot(results, setup).throughput = summariseThroughput(t[setup] ?? [], cfg);

    log(
      `  latency at ${cfg.latencyRate} msg/s: ${cfg.latencyRounds} windows of ${cfg.latencyRoundMs / 1000} s per setup`,
    );
    const l = await interleave(
      SETUPS,
      { ...cfg, rounds: cfg.latencyRounds },
      cfg.latencyBudgetMs,
      (setup) => latencyWindow(ctx, setup),
      (setup, w) => {
        const s = sortedSamples(w.reports);
        const lost = sum(w.reports.map((r) => r.sentInWindow - r.receivedInWindow));
        log(
          `    ${setup.padEnd(7)} p50 ${fmt(percentile(s, 50), 3)} ms  p99 ${fmt(percentile(s, 99), 3)} ms  ${cpuText(ctx, setup, w)}${lost ? `  lost ${lost}` : ""}`,
        );
      },
    );
    for (const setup of SETUPS) slot(results, setup).latency = summariseLatency(l[setup] ?? [], cfg);

    for (const setup of SETUPS) {
      const d = await delivery(ctx, setup);
      slot(results, setup).delivery = d;
      log(
        `  ${setup}: ${d.sent} frames sent, ${d.received} received, ${d.errors} refused, ${d.undelivered} lost (after ${fmt(d.waited_ms / 1000, 1)} s)`,
      );
    }
  } finally {
    await Promise.all([...ctx.loads.single, ...ctx.loads.cluster].map((l) => l.close()));
  }
}
