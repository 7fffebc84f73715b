import { performance } from "node:perf_hooks";
import { type Config, sleep } from "./config.js";
import { all, Load } from "./load-client.js";
import type { CountReport, Mode, OpenReport, SocketSpec } from "./messages.js";
import { cpuSeconds, cpuSplit, machineBusySeconds, rssBytes, syscalls } from "./proc.js";
import { fmt, log } from "./report.js";
import { type IdleResult, sum } from "./results.js";
import type { ServerProcess } from "./servers.js";

export async function runIdle(
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
    const hk0 = cpuSplit(server.pid).system;
    const hs0 = syscalls(server.pid);
    const hm0 = machineBusySeconds();
    const ht0 = performance.now();
    await sleep(cfg.heartbeatWindowMs);
    const h1 = cpuSeconds(server.pid);
    const hk1 = cpuSplit(server.pid).system;
    const hs1 = syscalls(server.pid);
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
      heartbeat_kernel_us_per_ping: pings > 0 ? ((hk1 - hk0) / pings) * 1e6 : Number.NaN,
      heartbeat_syscalls_per_ping:
        pings > 0 ? (hs1.reads - hs0.reads + hs1.writes - hs0.writes) / pings : Number.NaN,
      heartbeat_cpu_percent_at_25s: pings > 0 ? ((h1 - h0) / pings) * (n / 25) * 100 : Number.NaN,
      pings_seen_in_window: pings,
      other_cores_in_window: (hm1 - hm0 - (h1 - h0) - loadCpu) / hSeconds,
      open_after_window: sum(c1.map((c) => c.open)),
    };
    log(
      `  ${mode}: ${fmt(result.server_cpu_us_per_connection, 0)} µs CPU/connection, ${fmt(result.bytes_per_idle_connection / 1024, 2)} KiB/connection, idle CPU ${fmt(result.heartbeat_server_cpu_percent, 2)}% (${result.pings_seen_in_window} pings; per ping ${fmt(result.heartbeat_cpu_us_per_ping, 1)} µs, kernel ${fmt(result.heartbeat_kernel_us_per_ping, 1)} µs, ${fmt(result.heartbeat_syscalls_per_ping, 2)} syscalls)`,
    );
    return result;
  } finally {
    await Promise.all(loads.map((l) => l.close()));
  }
}
