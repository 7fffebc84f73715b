/** What the relay benchmark measures and how much: the full and quick settings, and the targets. */
import type { Mode } from "./messages.js";

export interface Config {
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
   * the same for the latency figures: a window's p99 swings 2–4× with what else the
   * 2-core machine runs in those 2 s, so the tail needs more windows than throughput
   */
  latencyRounds: number;
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
  /** a second, low rate: p99 where nothing batches */
  lowLatencyRate: number;
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

export const FULL: Config = {
  quick: false,
  pairs: 200,
  pairWorkers: 2,
  window: 32,
  maxBufferedBytes: 256 * 1024,
  warmupMs: 3000,
  rounds: 5,
  latencyRounds: 10,
  quietCores: 0.25,
  throughputBudgetMs: 75_000,
  latencyBudgetMs: 120_000,
  throughputRoundWarmupMs: 1000,
  throughputRoundMs: 2000,
  latencyRate: 20_000,
  lowLatencyRate: 2_000,
  latencyRoundWarmupMs: 500,
  latencyRoundMs: 2000,
  idle: 15_000,
  idleWorkers: 3,
  sourceAddresses: 8,
  connectConcurrency: 32,
  settleMs: 3000,
  // warren's default: the target is the cost of heartbeats as shipped. Two full rounds
  // of pings fall in the window.
  heartbeatInterval: "25s",
  heartbeatWindowMs: 50_000,
};

export const QUICK: Config = {
  ...FULL,
  quick: true,
  pairs: 50,
  warmupMs: 1500,
  rounds: 2,
  latencyRounds: 2,
  throughputBudgetMs: 15_000,
  latencyBudgetMs: 15_000,
  throughputRoundWarmupMs: 500,
  throughputRoundMs: 1500,
  latencyRoundMs: 1500,
  idle: 3000,
  settleMs: 1000,
  heartbeatInterval: "5s",
  heartbeatWindowMs: 6000,
};

/**
 * The targets, as ratios to the fair floor (the corked bare relay, measured in the same
 * run) or absolute. The one-write-per-frame relay is reported beside it, without targets.
 */
export const TARGETS = {
  throughput_ratio_min: 1.0,
  cpu_per_message_ratio_max: 1.1,
  p99_ratio_max: 1.2,
  p999_ratio_max: 1.5,
  p99_low_rate_ratio_max: 1.1,
  cpu_per_connection_ratio_max: 2,
  memory_per_idle_connection_max_bytes: 8 * 1024,
  heartbeat_cpu_percent_max: 3,
};

export const MODES: Mode[] = ["bare", "corked", "warren"];

/** The 127.0.0.x source address of the i-th client socket. */
export const source = (i: number, cfg: Config) => `127.0.0.${1 + (i % cfg.sourceAddresses)}`;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
