import { performance } from "node:perf_hooks";
import { type Config, MODES, sleep } from "./config.js";
import { all, Load } from "./load-client.js";
import type { LatencyReport, Mode, PairSpec, Snapshot } from "./messages.js";
import { cpuSeconds, cpuSplit, machineBusySeconds, mainThreadCpuSeconds, syscalls } from "./proc.js";
import { fmt, log } from "./report.js";
import {
  type LatencyResult,
  percentile,
  type Results,
  slot,
  sum,
  type ThroughputResult,
  type ThroughputRound,
} from "./results.js";
import type { ServerProcess } from "./servers.js";

/** CPU clocks read at the edges of a measured window. */
interface Clocks {
  at: number;
  server: number;
  serverMain: number;
  machine: number;
  reads: number;
  writes: number;
  /** the server's kernel time (stime), seconds */
  serverSystem: number;
}

function clocks(server: ServerProcess): Clocks {
  return {
    at: performance.now(),
    server: cpuSeconds(server.pid),
    serverMain: mainThreadCpuSeconds(server.pid),
    machine: machineBusySeconds(),
    ...syscalls(server.pid),
    serverSystem: cpuSplit(server.pid).system,
  };
}

type Measured = ThroughputRound & { firstError?: string };

async function throughputRound(
  mode: Mode,
  server: ServerProcess,
  loads: Load[],
  cfg: Config,
  warmupMs: number,
  measureMs: number,
): Promise<Measured> {
  await all(
    loads,
    () => ({ cmd: "throughput.start", mode, window: cfg.window, maxBufferedBytes: cfg.maxBufferedBytes }),
    "ok",
    10_000,
  );
  await sleep(warmupMs);
  const c0 = clocks(server);
  const s0 = await Promise.all(loads.map((l) => l.snapshot()));
  await sleep(measureMs);
  const c1 = clocks(server);
  const s1 = await Promise.all(loads.map((l) => l.snapshot()));
  await all(loads, () => ({ cmd: "throughput.stop", drainMs: 3000 }), "snapshot", 10_000);
  const delta = (f: (s: Snapshot) => number) => sum(s1.map(f)) - sum(s0.map(f));
  const firstError = s1.find((s) => s.firstError)?.firstError;
  const seconds = (c1.at - c0.at) / 1000;
  const loadCpu = delta((s) => s.cpuUs) / 1e6;
  return {
    seconds,
    relayed: delta((s) => s.received),
    sent: delta((s) => s.sent),
    errors: delta((s) => s.errors),
    server_cpu_s: c1.server - c0.server,
    server_main_thread_cpu_s: c1.serverMain - c0.serverMain,
    server_reads: c1.reads - c0.reads,
    server_writes: c1.writes - c0.writes,
    server_system_cpu_s: c1.serverSystem - c0.serverSystem,
    load_cpu_s: loadCpu,
    machine_cpu_s: c1.machine - c0.machine,
    other_cores: (c1.machine - c0.machine - (c1.server - c0.server) - loadCpu) / seconds,
    used: false,
    ...(firstError !== undefined && { firstError }),
  };
}

/** Marks the `n` least contended windows as used and returns them. */
export function pick<T extends { other_cores: number; used: boolean }>(windows: T[], n: number): T[] {
  const chosen = [...windows].sort((a, b) => a.other_cores - b.other_cores).slice(0, n);
  for (const w of chosen) w.used = true;
  return windows.filter((w) => w.used);
}

function summariseThroughput(windows: Measured[], cfg: Config): ThroughputResult {
  const rounds = pick(windows, cfg.rounds);
  const t = (f: (r: ThroughputRound) => number) => sum(rounds.map(f));
  const seconds = t((r) => r.seconds);
  const relayed = t((r) => r.relayed);
  const firstError = windows.find((r) => r.firstError)?.firstError;
  return {
    measured_seconds: seconds,
    messages_per_second: relayed / seconds,
    server_cpu_us_per_message: relayed > 0 ? (t((r) => r.server_cpu_s) / relayed) * 1e6 : Number.NaN,
    server_cores: t((r) => r.server_cpu_s) / seconds,
    server_main_thread_cores: t((r) => r.server_main_thread_cpu_s) / seconds,
    messages_per_main_thread_second: relayed / t((r) => r.server_main_thread_cpu_s),
    server_reads_per_message: t((r) => r.server_reads) / relayed,
    server_writes_per_message: t((r) => r.server_writes) / relayed,
    server_system_cpu_us_per_message:
      relayed > 0 ? (t((r) => r.server_system_cpu_s) / relayed) * 1e6 : Number.NaN,
    load_cores: t((r) => r.load_cpu_s) / seconds,
    other_cores: (t((r) => r.machine_cpu_s) - t((r) => r.server_cpu_s) - t((r) => r.load_cpu_s)) / seconds,
    contended: rounds.some((r) => r.other_cores >= cfg.quietCores),
    errors: t((r) => r.errors),
    ...(firstError !== undefined && { first_error: firstError }),
    rounds: windows.map(({ firstError: _, ...r }) => r),
  };
}

interface LatencyRound {
  reports: LatencyReport[];
  seconds: number;
  server_cpu_s: number;
  machine_cpu_s: number;
  other_cores: number;
  server_reads: number;
  server_writes: number;
  /** frames the receivers got in the window */
  relayed: number;
  used: boolean;
}

async function latencyRound(
  mode: Mode,
  server: ServerProcess,
  loads: Load[],
  cfg: Config,
  rate: number,
): Promise<LatencyRound> {
  const perLoad = rate / loads.length;
  const pending = all(
    loads,
    () => ({
      cmd: "latency",
      mode,
      rate: perLoad,
      warmupMs: cfg.latencyRoundWarmupMs,
      durationMs: cfg.latencyRoundMs,
      drainMs: 500,
    }),
    "latency",
    cfg.latencyRoundWarmupMs + cfg.latencyRoundMs + 30_000,
  );
  await sleep(cfg.latencyRoundWarmupMs);
  const c0 = clocks(server);
  const s0 = await Promise.all(loads.map((l) => l.snapshot()));
  await sleep(cfg.latencyRoundMs);
  const c1 = clocks(server);
  const s1 = await Promise.all(loads.map((l) => l.snapshot()));
  const reports = (await pending).map((r) => r.report);
  const seconds = (c1.at - c0.at) / 1000;
  const loadCpu = (sum(s1.map((s) => s.cpuUs)) - sum(s0.map((s) => s.cpuUs))) / 1e6;
  return {
    reports,
    seconds,
    server_cpu_s: c1.server - c0.server,
    machine_cpu_s: c1.machine - c0.machine,
    other_cores: (c1.machine - c0.machine - (c1.server - c0.server) - loadCpu) / seconds,
    server_reads: c1.reads - c0.reads,
    server_writes: c1.writes - c0.writes,
    relayed: sum(s1.map((s) => s.received)) - sum(s0.map((s) => s.received)),
    used: false,
  };
}

export function sortedSamples(reports: LatencyReport[]): Float64Array {
  const all = new Float64Array(sum(reports.map((r) => r.samples.length)));
  let k = 0;
  for (const r of reports) for (const s of r.samples) all[k++] = s;
  return all.sort();
}

function summariseLatency(windows: LatencyRound[], cfg: Config): LatencyResult {
  const rounds = pick(windows, cfg.latencyRounds);
  const reports = rounds.flatMap((r) => r.reports);
  const samples = sortedSamples(reports);
  const seconds = sum(rounds.map((r) => r.seconds));
  const firstError = reports.find((r) => r.firstError)?.firstError;
  return {
    offered_per_second: sum(reports.map((r) => r.offeredRate)) / rounds.length,
    measured_seconds: seconds,
    samples: samples.length,
    lost: sum(reports.map((r) => r.sentInWindow)) - sum(reports.map((r) => r.receivedInWindow)),
    errors: sum(reports.map((r) => r.errors)),
    ...(firstError !== undefined && { first_error: firstError }),
    p50_ms: percentile(samples, 50),
    p90_ms: percentile(samples, 90),
    p99_ms: percentile(samples, 99),
    p999_ms: percentile(samples, 99.9),
    max_ms: samples.length ? (samples[samples.length - 1] ?? Number.NaN) : Number.NaN,
    server_cores: sum(rounds.map((r) => r.server_cpu_s)) / seconds,
    other_cores: sum(rounds.map((r) => r.other_cores * r.seconds)) / seconds,
    contended: rounds.some((r) => r.other_cores >= cfg.quietCores),
    round_p99_ms: rounds.map((r) => percentile(sortedSamples(r.reports), 99)),
    round_other_cores: rounds.map((r) => r.other_cores),
    windows_measured: windows.length,
  };
}

/** Waits (at most `maxMs`) for half a second in which the machine is nearly idle. */
async function waitQuiet(cfg: Pick<Config, "quietCores">, maxMs: number): Promise<void> {
  const until = performance.now() + maxMs;
  while (performance.now() < until) {
    const m0 = machineBusySeconds();
    await sleep(500);
    if ((machineBusySeconds() - m0) / 0.5 < cfg.quietCores) return;
  }
}

/**
 * Interleaved windows (A B, B A, …) until every server has `rounds` clean windows,
 * or the budget is spent and each has at least `rounds`.
 */
export async function interleave<M extends string, T extends { other_cores: number }>(
  modes: M[],
  cfg: Pick<Config, "rounds" | "quietCores">,
  budgetMs: number,
  measure: (mode: M) => Promise<T>,
  show: (mode: M, w: T) => void,
): Promise<Partial<Record<M, T[]>>> {
  const windows: Partial<Record<M, T[]>> = {};
  const deadline = performance.now() + budgetMs;
  const count = (m: M, clean: boolean) =>
    (windows[m] ?? []).filter((w) => !clean || w.other_cores < cfg.quietCores).length;
  for (let round = 0; round < cfg.rounds * 4; round++) {
    const enough = modes.every((m) => count(m, false) >= cfg.rounds);
    if (enough && (modes.every((m) => count(m, true) >= cfg.rounds) || performance.now() > deadline)) break;
    await waitQuiet(cfg, enough ? 3000 : 1000);
    for (const mode of round % 2 === 0 ? modes : [...modes].reverse()) {
      const w = await measure(mode);
      const list = windows[mode] ?? [];
      list.push(w);
      windows[mode] = list;
      show(mode, w);
    }
  }
  return windows;
}

/**
 * Throughput and latency of both servers, interleaved: both run side by side with
 * their pairs connected, and only one is driven at a time.
 */
export async function benchPairs(
  servers: Partial<Record<Mode, ServerProcess>>,
  specs: Partial<Record<Mode, PairSpec[]>>,
  cfg: Config,
  results: Results,
): Promise<void> {
  const modes = MODES.filter((m) => servers[m] && specs[m]);
  const loads = Array.from({ length: cfg.pairWorkers }, () => Load.start());
  const server = (m: Mode) => servers[m] as ServerProcess;
  try {
    for (const mode of modes) {
      const mine = specs[mode] ?? [];
      log(`  ${mode}: setting up ${mine.length} pairs`);
      await all(
        loads,
        (i) => ({
          cmd: "pairs",
          mode,
          pairs: mine.filter((_, k) => k % loads.length === i),
          timeoutMs: 60_000,
        }),
        "ok",
        70_000,
      );
    }
    for (const mode of modes) {
      log(`  ${mode}: warming up for ${cfg.warmupMs / 1000} s at saturation`);
      await throughputRound(mode, server(mode), loads, cfg, cfg.warmupMs, 200);
    }

    log(`  saturation: ${cfg.rounds} windows of ${cfg.throughputRoundMs / 1000} s per server, interleaved`);
    const tWindows = await interleave(
      modes,
      cfg,
      cfg.throughputBudgetMs,
      (mode) =>
        throughputRound(mode, server(mode), loads, cfg, cfg.throughputRoundWarmupMs, cfg.throughputRoundMs),
      (mode, r) =>
        log(
          `    ${mode.padEnd(6)} ${fmt(r.relayed / r.seconds, 0).padStart(7)} msg/s  ${fmt((r.server_cpu_s / r.relayed) * 1e6, 2)} µs/msg (kernel ${fmt((r.server_system_cpu_s / r.relayed) * 1e6, 2)})  server ${fmt(r.server_cpu_s / r.seconds, 2)} (main ${fmt(r.server_main_thread_cpu_s / r.seconds, 2)}) load ${fmt(r.load_cpu_s / r.seconds, 2)} else ${fmt(r.other_cores, 2)} cores  syscalls/msg r ${fmt(r.server_reads / r.relayed, 2)} w ${fmt(r.server_writes / r.relayed, 2)}`,
        ),
    );
    for (const mode of modes) slot(results, mode).throughput = summariseThroughput(tWindows[mode] ?? [], cfg);

    // Latency at the high rate (batching starts to matter) and at a low one (it does not).
    for (const [rate, key] of [
      [cfg.latencyRate, "latency"],
      [cfg.lowLatencyRate, "latency_low"],
    ] as const) {
      log(
        `  latency at ${rate} msg/s: ${cfg.latencyRounds} windows of ${cfg.latencyRoundMs / 1000} s per server`,
      );
      const lWindows = await interleave(
        modes,
        { ...cfg, rounds: cfg.latencyRounds },
        cfg.latencyBudgetMs,
        (mode) => latencyRound(mode, server(mode), loads, cfg, rate),
        (mode, r) => {
          const s = sortedSamples(r.reports);
          log(
            `    ${mode.padEnd(6)} p50 ${fmt(percentile(s, 50), 3)} ms  p99 ${fmt(percentile(s, 99), 3)} ms  p99.9 ${fmt(percentile(s, 99.9), 3)} ms  server ${fmt(r.server_cpu_s / r.seconds, 2)} else ${fmt(r.other_cores, 2)} cores  ${fmt((r.server_cpu_s / r.relayed) * 1e6, 1)} µs/msg  syscalls/msg r ${fmt(r.server_reads / r.relayed, 2)} w ${fmt(r.server_writes / r.relayed, 2)}`,
          );
        },
      );
      for (const mode of modes) slot(results, mode)[key] = summariseLatency(lWindows[mode] ?? [], cfg);
    }
  } finally {
    await Promise.all(loads.map((l) => l.close()));
  }
}
