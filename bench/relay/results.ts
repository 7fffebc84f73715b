/** The shapes of the relay benchmark's results, and the small statistics they need. */
import type { Mode } from "./messages.js";

export const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? Number.NaN) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

/** One measured saturation window of one server. */
export interface ThroughputRound {
  seconds: number;
  relayed: number;
  sent: number;
  errors: number;
  server_cpu_s: number;
  server_main_thread_cpu_s: number;
  /** the server's read and write system calls in the window */
  server_reads: number;
  server_writes: number;
  /** of server_cpu_s, the time in the kernel */
  server_system_cpu_s: number;
  load_cpu_s: number;
  machine_cpu_s: number;
  /** cores used by everything else during the window */
  other_cores: number;
  used: boolean;
}

export interface ThroughputResult {
  measured_seconds: number;
  messages_per_second: number;
  server_cpu_us_per_message: number;
  /** server CPU time / wall time (all threads): 1.0 is one core */
  server_cores: number;
  /** the event loop's thread alone: near 1.0 means the server was the bottleneck */
  server_main_thread_cores: number;
  /** relayed messages per second of the main thread's CPU time: the rate with a core of its own */
  messages_per_main_thread_second: number;
  /** system calls per relayed message: a write per frame unless writes coalesce */
  server_reads_per_message: number;
  server_writes_per_message: number;
  /** of server_cpu_us_per_message, the part spent in the kernel (mostly the loopback writes) */
  server_system_cpu_us_per_message: number;
  load_cores: number;
  /** CPU used by everything else on the machine during the windows used (other users, kernel) */
  other_cores: number;
  /** some window used had more than `quietCores` of other load */
  contended: boolean;
  errors: number;
  first_error?: string;
  /** every window measured, in order; `used` marks those the figures come from */
  rounds: ThroughputRound[];
}

export interface LatencyResult {
  offered_per_second: number;
  measured_seconds: number;
  samples: number;
  lost: number;
  errors: number;
  first_error?: string;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  p999_ms: number;
  max_ms: number;
  server_cores: number;
  other_cores: number;
  contended: boolean;
  /** p99 of each window used, and how much else ran meanwhile */
  round_p99_ms: number[];
  round_other_cores: number[];
  windows_measured: number;
}

export interface IdleResult {
  connections: number;
  failed: number;
  first_failure?: string;
  connect_seconds: number;
  connects_per_second: number;
  server_cpu_us_per_connection: number;
  rss_before_bytes: number;
  rss_after_bytes: number;
  bytes_per_idle_connection: number;
  heartbeat_interval: string | null;
  heartbeat_window_ms: number;
  heartbeat_server_cpu_percent: number;
  /** server CPU in the idle window per ping the clients saw (ping out, pong in) */
  heartbeat_cpu_us_per_ping: number;
  /** of which in the kernel (stime) */
  heartbeat_kernel_us_per_ping: number;
  /** read and write system calls of the server per ping seen */
  heartbeat_syscalls_per_ping: number;
  /** the same cost at warren's default HEARTBEAT_INTERVAL of 25 s */
  heartbeat_cpu_percent_at_25s: number;
  pings_seen_in_window: number;
  /** cores used by everything else during the idle window */
  other_cores_in_window: number;
  open_after_window: number;
}

export interface ServerResults {
  throughput?: ThroughputResult;
  latency?: LatencyResult;
  /** the same at the low rate (`lowLatencyRate`) */
  latency_low?: LatencyResult;
  idle?: IdleResult;
}
export type Results = Partial<Record<Mode, ServerResults>>;

/** The results of one server, made on first use. */
export function slot(results: Results, mode: Mode): ServerResults {
  let r = results[mode];
  if (!r) {
    r = {};
    results[mode] = r;
  }
  return r;
}
