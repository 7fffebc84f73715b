/** The shapes of the cluster benchmark's results, and their summaries over the windows used. */
import type { LatencyReport } from "../relay/messages.js";
import { pick, sortedSamples } from "../relay/pairs.js";
import { percentile, sum } from "../relay/results.js";
import type { CommandStat } from "./backends.js";
import type { ClusterConfig, Setup } from "./config.js";

/** One measured window of one setup, at saturation or at the paced rate. */
export interface ClusterWindow {
  seconds: number;
  /** frames that arrived at the receivers */
  relayed: number;
  sent: number;
  /** frames that came back to senders as errors */
  errors: number;
  /** CPU time of each instance of the setup (single; A, B), all threads */
  instance_cpu_s: number[];
  /** read and write system calls of each instance (/proc/<pid>/io) */
  instance_reads: number[];
  instance_writes: number[];
  /** Redis's used_cpu_user + used_cpu_sys over the window (whichever setup is driven) */
  redis_cpu_s: number;
  /** read and write events Redis processed (INFO stats) */
  redis_reads: number;
  redis_writes: number;
  /** what the setup's figure counts: its instances, and Redis for the cluster */
  server_cpu_s: number;
  load_cpu_s: number;
  machine_cpu_s: number;
  /** cores used by everything else: other users, PostgreSQL, the idle setup */
  other_cores: number;
  /** Redis commands in the window, from INFO commandstats (INFO itself left out) */
  redis_commands: Record<string, CommandStat>;
  used: boolean;
}

export interface CpuSplit {
  /** server CPU per relayed message: instances (+ Redis for the cluster), µs */
  server_cpu_us_per_message: number;
  instance_cpu_us_per_message: number[];
  redis_cpu_us_per_message: number;
  server_cores: number;
  instance_cores: number[];
  redis_cores: number;
  load_cores: number;
  other_cores: number;
  /** system calls per relayed message: each instance's, and Redis's read and write events */
  instance_reads_per_message: number[];
  instance_writes_per_message: number[];
  redis_reads_per_message: number;
  redis_writes_per_message: number;
  /** Redis commands per relayed message, and µs Redis spent per call, by command */
  redis_calls_per_message: Record<string, number>;
  redis_us_per_call: Record<string, number>;
}

export interface ThroughputSummary extends CpuSplit {
  measured_seconds: number;
  messages_per_second: number;
  contended: boolean;
  errors: number;
  first_error?: string;
  windows: ClusterWindow[];
}

export interface LatencySummary extends CpuSplit {
  offered_per_second: number;
  measured_seconds: number;
  samples: number;
  /** sent in the windows used and never received */
  lost: number;
  errors: number;
  first_error?: string;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  p999_ms: number;
  max_ms: number;
  contended: boolean;
  round_p99_ms: number[];
  windows: ClusterWindow[];
}

/** Every relay frame of the run, counted by the load processes once the last window drained. */
export interface Delivery {
  sent: number;
  received: number;
  /** frames answered with an error frame instead */
  errors: number;
  /** sent − received − errors: frames neither delivered nor refused (lost) */
  undelivered: number;
  /** how long the check waited for late frames, ms */
  waited_ms: number;
}

export interface SetupResults {
  throughput?: ThroughputSummary;
  latency?: LatencySummary;
  delivery?: Delivery;
}
export type ClusterResults = Partial<Record<Setup, SetupResults>>;

/** The results of one setup, made on first use. */
export function slot(results: ClusterResults, setup: Setup): SetupResults {
  const r = results[setup] ?? {};
  results[setup] = r;
  return r;
}

function cpuSplit(used: ClusterWindow[], relayed: number): CpuSplit {
  const seconds = sum(used.map((w) => w.seconds));
  const t = (f: (w: ClusterWindow) => number) => sum(used.map(f));
  const perMessage = (s: number) => (relayed > 0 ? (s / relayed) * 1e6 : Number.NaN);
  const each = (f: (w: ClusterWindow) => number[]) =>
    (used[0] ? f(used[0]) : []).map((_, i) => t((w) => f(w)[i] ?? 0));
  const instances = each((w) => w.instance_cpu_s);
  const count = (n: number) => (relayed > 0 ? n / relayed : Number.NaN);
  const commands: Record<string, CommandStat> = {};
  for (const w of used) {
    for (const [name, c] of Object.entries(w.redis_commands)) {
      const acc = commands[name] ?? { calls: 0, usec: 0 };
      commands[name] = { calls: acc.calls + c.calls, usec: acc.usec + c.usec };
    }
  }
  const byCommand = (f: (c: CommandStat) => number) =>
    Object.fromEntries(Object.entries(commands).map(([name, c]) => [name, f(c)]));
  return {
    server_cpu_us_per_message: perMessage(t((w) => w.server_cpu_s)),
    instance_cpu_us_per_message: instances.map(perMessage),
    redis_cpu_us_per_message: perMessage(t((w) => w.redis_cpu_s)),
    server_cores: t((w) => w.server_cpu_s) / seconds,
    instance_cores: instances.map((s) => s / seconds),
    redis_cores: t((w) => w.redis_cpu_s) / seconds,
    load_cores: t((w) => w.load_cpu_s) / seconds,
    other_cores: t((w) => w.other_cores * w.seconds) / seconds,
    instance_reads_per_message: each((w) => w.instance_reads).map(count),
    instance_writes_per_message: each((w) => w.instance_writes).map(count),
    redis_reads_per_message: count(t((w) => w.redis_reads)),
    redis_writes_per_message: count(t((w) => w.redis_writes)),
    redis_calls_per_message: byCommand((c) => count(c.calls)),
    redis_us_per_call: byCommand((c) => (c.calls > 0 ? c.usec / c.calls : Number.NaN)),
  };
}

export function summariseThroughput(
  windows: (ClusterWindow & { firstError?: string })[],
  cfg: ClusterConfig,
): ThroughputSummary {
  const used = pick(windows, cfg.rounds);
  const seconds = sum(used.map((w) => w.seconds));
  const relayed = sum(used.map((w) => w.relayed));
  const firstError = windows.find((w) => w.firstError)?.firstError;
  return {
    measured_seconds: seconds,
    messages_per_second: relayed / seconds,
    ...cpuSplit(used, relayed),
    contended: used.some((w) => w.other_cores >= cfg.quietCores),
    errors: sum(used.map((w) => w.errors)),
    ...(firstError !== undefined && { first_error: firstError }),
    windows: windows.map(({ firstError: _, ...w }) => w),
  };
}

export type LatencyWindow = ClusterWindow & { reports: LatencyReport[] };

export function summariseLatency(windows: LatencyWindow[], cfg: ClusterConfig): LatencySummary {
  const used = pick(windows, cfg.latencyRounds);
  const reports = used.flatMap((w) => w.reports);
  const samples = sortedSamples(reports);
  const seconds = sum(used.map((w) => w.seconds));
  const firstError = reports.find((r) => r.firstError)?.firstError;
  return {
    offered_per_second: sum(reports.map((r) => r.offeredRate)) / used.length,
    measured_seconds: seconds,
    samples: samples.length,
    lost: sum(reports.map((r) => r.sentInWindow - r.receivedInWindow)),
    errors: sum(reports.map((r) => r.errors)),
    ...(firstError !== undefined && { first_error: firstError }),
    p50_ms: percentile(samples, 50),
    p90_ms: percentile(samples, 90),
    p99_ms: percentile(samples, 99),
    p999_ms: percentile(samples, 99.9),
    max_ms: samples.length ? (samples[samples.length - 1] ?? Number.NaN) : Number.NaN,
    ...cpuSplit(used, sum(used.map((w) => w.relayed))),
    contended: used.some((w) => w.other_cores >= cfg.quietCores),
    round_p99_ms: used.map((w) => percentile(sortedSamples(w.reports), 99)),
    windows: windows.map(({ reports: _, ...w }) => w),
  };
}
