/**
 * `npm run bench -- relay [--quick] [--only=bare|warren] [--no-write]`
 *
 * Measures warren's WebSocket relay against a bare `ws` relay (bench/bare-relay.ts) in
 * the same run, with the same load processes: saturation throughput and server CPU per
 * relayed message, latency at a fixed offered rate, server CPU per accepted connection,
 * server memory per idle connection and the heartbeat cost of those idle connections.
 *
 * The throughput and latency windows of the two servers are interleaved (A B B A …)
 * so that whatever else runs on the machine weighs on both alike. bench/README.md
 * says what each figure means.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type {
  Command,
  CountReport,
  LatencyReport,
  Mode,
  OpenReport,
  PairSpec,
  Reply,
  Snapshot,
  SocketSpec,
} from "./messages.js";
import {
  cpuSeconds,
  cpuSplit,
  describeCode,
  describeMachine,
  machineBusySeconds,
  mainThreadCpuSeconds,
  rssBytes,
  syscalls,
} from "./proc.js";
import { compare, contextTable, fmt, log, table } from "./report.js";
import {
  type Account,
  HOST,
  nodeCommand,
  pin,
  ROOT,
  registerUsers,
  type ServerProcess,
  startBare,
  startWarren,
} from "./servers.js";

interface Config {
  quick: boolean;
  /** sender→receiver pairs per server, for throughput and latency */
  pairs: number;
  /** load processes holding the pairs (of both servers) */
  pairWorkers: number;
  /** relayed frames each sender keeps in flight at saturation */
  window: number;
  /** a sender also pauses while its socket has more than this unsent */
  maxBufferedBytes: number;
  /** once per server before the first measured round (JIT, caches) */
  warmupMs: number;
  /** measured windows per server and figure, taken in interleaved rounds */
  rounds: number;
  /**
   * A window is clean when everything else on the machine (other users' processes,
   * unattributed kernel time) used less than this many cores during it. Contended
   * windows are measured again until each server has `rounds` clean ones or the
   * phase's time budget is spent; then the least contended `rounds` are used.
   */
  quietCores: number;
  throughputBudgetMs: number;
  latencyBudgetMs: number;
  throughputRoundWarmupMs: number;
  throughputRoundMs: number;
  /** offered messages/s for the latency figure, over all pairs */
  latencyRate: number;
  latencyRoundWarmupMs: number;
  latencyRoundMs: number;
  /** idle connections for the memory, connection and heartbeat figures */
  idle: number;
  idleWorkers: number;
  /** 127.0.0.1 … 127.0.0.<n> as source addresses */
  sourceAddresses: number;
  /** connects in flight per load process */
  connectConcurrency: number;
  settleMs: number;
  /** warren's HEARTBEAT_INTERVAL for the idle phase */
  heartbeatInterval: string;
  heartbeatWindowMs: number;
}

const FULL: Config = {
  quick: false,
  pairs: 200,
  pairWorkers: 2,
  window: 32,
  maxBufferedBytes: 256 * 1024,
  warmupMs: 3000,
  rounds: 5,
  quietCores: 0.25,
  throughputBudgetMs: 75_000,
  latencyBudgetMs: 60_000,
  throughputRoundWarmupMs: 1000,
  throughputRoundMs: 2000,
  latencyRate: 20_000,
  latencyRoundWarmupMs: 500,
  latencyRoundMs: 2000,
  idle: 15_000,
  idleWorkers: 3,
  sourceAddresses: 8,
  connectConcurrency: 32,
  settleMs: 3000,
  heartbeatInterval: "5s",
  heartbeatWindowMs: 15_000,
};

const QUICK: Config = {
  ...FULL,
  quick: true,
  pairs: 50,
  warmupMs: 1500,
  rounds: 2,
  throughputBudgetMs: 15_000,
  latencyBudgetMs: 15_000,
  throughputRoundWarmupMs: 500,
  throughputRoundMs: 1500,
  latencyRoundMs: 1500,
  idle: 3000,
  settleMs: 1000,
  heartbeatWindowMs: 6000,
};

/** What issue 3 asks of warren, as ratios to the bare relay (or absolute). */
export const TARGETS = {
  throughput_ratio_min: 0.85,
  cpu_per_message_ratio_max: 1.25,
  p99_ratio_max: 1.5,
  memory_per_idle_connection_max_bytes: 8 * 1024,
  heartbeat_cpu_percent_max: 3,
};

const MODES: Mode[] = ["bare", "warren"];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** One forked load process and its request/reply channel. */
class Load {
  private rid = 0;
  private readonly pending = new Map<number, { resolve(r: Reply): void; reject(e: Error): void }>();
  private constructor(private readonly child: ChildProcess) {
    child.on("message", (r: Reply) => {
      const p = this.pending.get(r.re);
      if (!p) return;
      this.pending.delete(r.re);
      if (r.error) p.reject(new Error(r.error));
      else p.resolve(r);
    });
    child.on("exit", (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`load process exited with ${code}`));
      this.pending.clear();
    });
  }

  static start(): Load {
    const child = spawn(...nodeCommand("load", ["--import", "tsx", path.join(ROOT, "bench/relay/load.ts")]), {
      cwd: ROOT,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env: { ...process.env, NODE_OPTIONS: "" },
    });
    return new Load(child);
  }

  call(c: DistributiveOmit<Command, "rid">, timeoutMs: number): Promise<Reply> {
    const rid = ++this.rid;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(rid);
        reject(new Error(`load process: no answer to ${c.cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(rid, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ ...c, rid } as Command);
    });
  }

  async snapshot(): Promise<Snapshot> {
    const r = await this.call({ cmd: "snapshot" }, 10_000);
    if (r.kind !== "snapshot") throw new Error("expected a snapshot");
    return r.snapshot;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once("exit", () => r()));
    await this.call({ cmd: "close" }, 15_000).catch(() => this.child.kill("SIGKILL"));
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
}

const source = (i: number, cfg: Config) => `127.0.0.${1 + (i % cfg.sourceAddresses)}`;
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

function percentile(sorted: Float64Array, p: number): number {
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

/** One measured saturation window of one server. */
interface ThroughputRound {
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
  idle?: IdleResult;
}
export type Results = Partial<Record<Mode, ServerResults>>;

/** The results of one server, made on first use. */
function slot(results: Results, mode: Mode): ServerResults {
  let r = results[mode];
  if (!r) {
    r = {};
    results[mode] = r;
  }
  return r;
}

async function all<T extends Reply["kind"]>(
  loads: Load[],
  c: (i: number) => DistributiveOmit<Command, "rid">,
  kind: T,
  timeoutMs: number,
): Promise<Extract<Reply, { kind: T }>[]> {
  const replies = await Promise.all(loads.map((l, i) => l.call(c(i), timeoutMs)));
  for (const r of replies) if (r.kind !== kind) throw new Error(`expected ${kind}, got ${r.kind}`);
  return replies as Extract<Reply, { kind: T }>[];
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
function pick<T extends { other_cores: number; used: boolean }>(windows: T[], n: number): T[] {
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
  used: boolean;
}

async function latencyRound(
  mode: Mode,
  server: ServerProcess,
  loads: Load[],
  cfg: Config,
): Promise<LatencyRound> {
  const perLoad = cfg.latencyRate / loads.length;
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
    used: false,
  };
}

function sortedSamples(reports: LatencyReport[]): Float64Array {
  const all = new Float64Array(sum(reports.map((r) => r.samples.length)));
  let k = 0;
  for (const r of reports) for (const s of r.samples) all[k++] = s;
  return all.sort();
}

function summariseLatency(windows: LatencyRound[], cfg: Config): LatencyResult {
  const rounds = pick(windows, cfg.rounds);
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
async function waitQuiet(cfg: Config, maxMs: number): Promise<void> {
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
async function interleave<T extends { other_cores: number }>(
  modes: Mode[],
  cfg: Config,
  budgetMs: number,
  measure: (mode: Mode) => Promise<T>,
  show: (mode: Mode, w: T) => void,
): Promise<Partial<Record<Mode, T[]>>> {
  const windows: Partial<Record<Mode, T[]>> = {};
  const deadline = performance.now() + budgetMs;
  const count = (m: Mode, clean: boolean) =>
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
async function benchPairs(
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

    log(
      `  latency at ${cfg.latencyRate} msg/s: ${cfg.rounds} windows of ${cfg.latencyRoundMs / 1000} s per server`,
    );
    const lWindows = await interleave(
      modes,
      cfg,
      cfg.latencyBudgetMs,
      (mode) => latencyRound(mode, server(mode), loads, cfg),
      (mode, r) => {
        const s = sortedSamples(r.reports);
        log(
          `    ${mode.padEnd(6)} p50 ${fmt(percentile(s, 50), 3)} ms  p99 ${fmt(percentile(s, 99), 3)} ms  server ${fmt(r.server_cpu_s / r.seconds, 2)} else ${fmt(r.other_cores, 2)} cores`,
        );
      },
    );
    for (const mode of modes) slot(results, mode).latency = summariseLatency(lWindows[mode] ?? [], cfg);
  } finally {
    await Promise.all(loads.map((l) => l.close()));
  }
}

async function runIdle(
  mode: Mode,
  server: ServerProcess,
  specs: SocketSpec[],
  cfg: Config,
  heartbeat: string | null,
): Promise<IdleResult> {
  const loads = Array.from({ length: cfg.idleWorkers }, () => Load.start());
  try {
    const shares: SocketSpec[][] = loads.map((_, i) => specs.filter((_, k) => k % loads.length === i));
    await sleep(1500); // the load processes start; the server settles
    const rss0 = rssBytes(server.pid);
    const cpu0 = cpuSeconds(server.pid);
    const t0 = performance.now();
    log(`  ${mode}: opening ${specs.length} idle connections over ${loads.length} load processes`);
    const opened: OpenReport[] = (
      await all(
        loads,
        (i) => ({
          cmd: "idle",
          mode,
          sockets: shares[i] ?? [],
          concurrency: cfg.connectConcurrency,
          timeoutMs: 120_000,
        }),
        "open",
        150_000,
      )
    ).map((r) => r.report);
    const cpu1 = cpuSeconds(server.pid);
    const t1 = performance.now();
    const n = sum(opened.map((o) => o.opened));
    await sleep(cfg.settleMs);
    const rss1 = rssBytes(server.pid);
    log(
      `  ${mode}: ${n} open in ${fmt((t1 - t0) / 1000, 1)} s; watching ${cfg.heartbeatWindowMs / 1000} s of idleness`,
    );

    const counts = async (): Promise<CountReport[]> =>
      (await all(loads, () => ({ cmd: "count" }), "count", 10_000)).map((r) => r.report);
    const c0 = await counts();
    const h0 = cpuSeconds(server.pid);
    const hm0 = machineBusySeconds();
    const ht0 = performance.now();
    await sleep(cfg.heartbeatWindowMs);
    const h1 = cpuSeconds(server.pid);
    const hm1 = machineBusySeconds();
    const ht1 = performance.now();
    const c1 = await counts();
    const pings = sum(c1.map((c) => c.pings)) - sum(c0.map((c) => c.pings));
    const hSeconds = (ht1 - ht0) / 1000;
    const loadCpu = (sum(c1.map((c) => c.cpuUs)) - sum(c0.map((c) => c.cpuUs))) / 1e6;
    const firstFailure = opened.find((o) => o.firstFailure)?.firstFailure;
    const result: IdleResult = {
      connections: n,
      failed: sum(opened.map((o) => o.failed)),
      ...(firstFailure !== undefined && { first_failure: firstFailure }),
      connect_seconds: (t1 - t0) / 1000,
      connects_per_second: n / ((t1 - t0) / 1000),
      server_cpu_us_per_connection: n > 0 ? ((cpu1 - cpu0) / n) * 1e6 : Number.NaN,
      rss_before_bytes: rss0,
      rss_after_bytes: rss1,
      bytes_per_idle_connection: n > 0 ? (rss1 - rss0) / n : Number.NaN,
      heartbeat_interval: heartbeat,
      heartbeat_window_ms: Math.round(ht1 - ht0),
      heartbeat_server_cpu_percent: ((h1 - h0) / hSeconds) * 100,
      heartbeat_cpu_us_per_ping: pings > 0 ? ((h1 - h0) / pings) * 1e6 : Number.NaN,
      heartbeat_cpu_percent_at_25s: pings > 0 ? ((h1 - h0) / pings) * (n / 25) * 100 : Number.NaN,
      pings_seen_in_window: pings,
      other_cores_in_window: (hm1 - hm0 - (h1 - h0) - loadCpu) / hSeconds,
      open_after_window: sum(c1.map((c) => c.open)),
    };
    log(
      `  ${mode}: ${fmt(result.server_cpu_us_per_connection, 0)} µs CPU/connection, ${fmt(result.bytes_per_idle_connection / 1024, 2)} KiB/connection, idle CPU ${fmt(result.heartbeat_server_cpu_percent, 2)}% (${result.pings_seen_in_window} pings)`,
    );
    return result;
  } finally {
    await Promise.all(loads.map((l) => l.close()));
  }
}

async function run(cfg: Config, modes: Mode[]): Promise<Results> {
  const results: Results = {};
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "warren-bench-"));
  const running: ServerProcess[] = [];
  const stop = async (s: ServerProcess) => {
    await s.stop();
    running.splice(running.indexOf(s), 1);
  };
  try {
    let pairUsers: Account[] = [];
    let idleUsers: Account[] = [];
    if (modes.includes("warren")) {
      // Accounts first, on a warren instance of their own, so the measured ones start clean.
      const setup = await startWarren(dataDir);
      running.push(setup);
      const tag = Math.random().toString(36).slice(2, 7);
      const t0 = performance.now();
      log(`warren: registering ${2 * cfg.pairs + cfg.idle} key-only accounts`);
      pairUsers = await registerUsers(setup.port, `bp${tag}`, 2 * cfg.pairs);
      idleUsers = await registerUsers(setup.port, `bi${tag}`, cfg.idle);
      log(`warren: registered in ${fmt((performance.now() - t0) / 1000, 1)} s`);
      await stop(setup);
    }

    // Throughput and latency: both servers up, driven in turns.
    log("throughput and latency");
    const servers: Partial<Record<Mode, ServerProcess>> = {};
    const specs: Partial<Record<Mode, PairSpec[]>> = {};
    if (modes.includes("bare")) {
      const s = await startBare();
      running.push(s);
      servers.bare = s;
      const url = `ws://${HOST}:${s.port}/`;
      // The same frames on the wire as warren's: user ids and devices are UUIDs there
      // (a device id defaults to a UUIDv7), so they are here too.
      const ids = Array.from({ length: 2 * cfg.pairs }, (_, i) => pairUsers[i]?.id ?? randomUUID());
      const id = (i: number) => ids[i] as string;
      const client = (i: number) => `${url}?id=${id(i)}&device=${randomUUID()}`;
      specs.bare = Array.from({ length: cfg.pairs }, (_, i) => ({
        sender: { url: client(2 * i), localAddress: source(2 * i, cfg) },
        receiver: { url: client(2 * i + 1), localAddress: source(2 * i + 1, cfg) },
        to: id(2 * i + 1),
      }));
    }
    if (modes.includes("warren")) {
      const s = await startWarren(dataDir);
      running.push(s);
      servers.warren = s;
      const url = `ws://${HOST}:${s.port}/v1/ws`;
      const auth = (a: Account) => ({ authorization: `Bearer ${a.token}` });
      specs.warren = Array.from({ length: cfg.pairs }, (_, i) => {
        const sender = pairUsers[2 * i] as Account;
        const receiver = pairUsers[2 * i + 1] as Account;
        return {
          sender: { url, headers: auth(sender), localAddress: source(2 * i, cfg) },
          receiver: { url, headers: auth(receiver), localAddress: source(2 * i + 1, cfg) },
          to: receiver.id,
        };
      });
    }
    await benchPairs(servers, specs, cfg, results);
    for (const s of Object.values(servers)) await stop(s);

    // Connections, memory and heartbeats: one fresh server at a time.
    log("idle connections");
    if (modes.includes("bare")) {
      const s = await startBare();
      running.push(s);
      const url = `ws://${HOST}:${s.port}/`;
      const idleSpecs = Array.from({ length: cfg.idle }, (_, i) => ({
        url: `${url}?id=i${i}`,
        localAddress: source(i, cfg),
      }));
      slot(results, "bare").idle = await runIdle("bare", s, idleSpecs, cfg, null);
      await stop(s);
    }
    if (modes.includes("warren")) {
      const s = await startWarren(dataDir, { HEARTBEAT_INTERVAL: cfg.heartbeatInterval });
      running.push(s);
      const url = `ws://${HOST}:${s.port}/v1/ws`;
      const idleSpecs = idleUsers.map((a, i) => ({
        url,
        headers: { authorization: `Bearer ${a.token}` },
        localAddress: source(i, cfg),
      }));
      slot(results, "warren").idle = await runIdle("warren", s, idleSpecs, cfg, cfg.heartbeatInterval);
      await stop(s);
    }
    return results;
  } finally {
    await Promise.all(running.map((s) => s.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function runRelay(args: string[]): Promise<void> {
  const quick = args.includes("--quick");
  const only = args.find((a) => a.startsWith("--only="))?.slice("--only=".length);
  if (only !== undefined && only !== "bare" && only !== "warren")
    throw new Error("--only takes bare or warren");
  const flags = new Set(["--quick", "--no-write", "--pin"]);
  const unknown = args.filter((a) => !flags.has(a) && !a.startsWith("--only="));
  if (unknown.length) throw new Error(`unknown option ${unknown.join(" ")}`);
  const write = !args.includes("--no-write") && only === undefined;
  const cfg = quick ? QUICK : FULL;
  const modes: Mode[] = only ? [only as Mode] : MODES;
  const machine = describeMachine();
  const pinning =
    args.includes("--pin") && machine.nproc >= 2
      ? { server: "0", load: machine.nproc === 2 ? "1" : `1-${machine.nproc - 1}` }
      : undefined;
  pin(pinning);
  const warrenDir = path.resolve(process.env.BENCH_WARREN_DIR ?? ROOT);
  const code = { warren_dir: warrenDir, ...describeCode(warrenDir) };
  const started = new Date();
  log(
    `relay benchmark${quick ? " (quick)" : ""} on ${machine.nproc}× ${machine.cpu_model}, node ${machine.node}`,
  );
  const t0 = performance.now();
  const results = await run(cfg, modes);
  const { ratios, met, rows } = compare(results);
  const seconds = (performance.now() - t0) / 1000;
  const date = started.toISOString().slice(0, 10);
  const name = `relay-${date}${quick ? "-quick" : ""}`;
  const md = [
    `# Relay benchmark, ${date}${quick ? " (quick)" : ""}`,
    "",
    `${machine.nproc}× ${machine.cpu_model}, ${fmt(machine.mem_total_bytes / 2 ** 30, 1)} GiB, node ${machine.node}, ${machine.kernel}. ` +
      `${cfg.pairs} sender→receiver pairs per server over ${cfg.pairWorkers} load processes (window ${cfg.window}), ` +
      `${cfg.rounds} interleaved rounds per figure; ${fmt(cfg.idle, 0)} idle connections over ${cfg.idleWorkers} load processes ` +
      `and 127.0.0.1–${cfg.sourceAddresses}${pinning ? `; servers pinned to CPU ${pinning.server}, load to ${pinning.load}` : ""}. ` +
      `warren at ${code.commit}${code.local_changes ? " with local changes" : ""}. ` +
      `Run took ${fmt(seconds, 0)} s. Raw numbers: ${name}.json; method: bench/README.md.`,
    "",
    table(rows),
    "",
    contextTable(results, ratios),
    "",
  ].join("\n");
  process.stdout.write(`\n${md}\n`);
  if (write) {
    const dir = path.join(ROOT, "bench/results");
    mkdirSync(dir, { recursive: true });
    const json = {
      benchmark: "relay",
      started_at: started.toISOString(),
      duration_seconds: seconds,
      code,
      pinning: pinning ?? null,
      machine,
      config: cfg,
      targets: TARGETS,
      results,
      ratios,
      met,
    };
    writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify(json, null, 2)}\n`);
    writeFileSync(path.join(dir, `${name}.md`), md);
    log(`wrote bench/results/${name}.json and .md`);
  }
}
