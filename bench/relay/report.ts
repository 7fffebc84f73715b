// Formatting of the relay benchmark's results: tables and ratios (split from main.ts).
import { TARGETS } from "./config.js";
import {
  type IdleResult,
  type LatencyResult,
  median,
  type Results,
  type ServerResults,
  type ThroughputResult,
} from "./results.js";

export function fmt(n: number, digits: number): string {
  if (!Number.isFinite(n)) return "n/a";
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

export interface Row {
  figure: string;
  bare: string;
  corked: string;
  warren: string;
  /** warren / corked floor */
  ratio: string;
  /** warren / one-write-per-frame relay */
  ratioBare: string;
  target: string;
  met: string;
}

const ratio = (x?: number, y?: number) => (x !== undefined && y !== undefined && y > 0 ? x / y : Number.NaN);

/** warren against one floor: every figure that has one. */
function ratiosTo(w: ServerResults | undefined, f: ServerResults | undefined) {
  return {
    throughput: ratio(w?.throughput?.messages_per_second, f?.throughput?.messages_per_second),
    throughput_per_main_thread_second: ratio(
      w?.throughput?.messages_per_main_thread_second,
      f?.throughput?.messages_per_main_thread_second,
    ),
    cpu_per_message: ratio(
      w?.throughput?.server_cpu_us_per_message,
      f?.throughput?.server_cpu_us_per_message,
    ),
    p50: ratio(w?.latency?.p50_ms, f?.latency?.p50_ms),
    p99: ratio(w?.latency?.p99_ms, f?.latency?.p99_ms),
    p999: ratio(w?.latency?.p999_ms, f?.latency?.p999_ms),
    p99_low: ratio(w?.latency_low?.p99_ms, f?.latency_low?.p99_ms),
    p99_median_of_rounds: median(
      (w?.latency?.round_p99_ms ?? []).map((x, i) => x / (f?.latency?.round_p99_ms[i] ?? Number.NaN)),
    ),
    cpu_per_connection: ratio(w?.idle?.server_cpu_us_per_connection, f?.idle?.server_cpu_us_per_connection),
    memory_per_idle_connection: ratio(w?.idle?.bytes_per_idle_connection, f?.idle?.bytes_per_idle_connection),
  };
}

export function compare(r: Results) {
  const b = r.bare;
  const c = r.corked;
  const w = r.warren;
  const ratios = { ...ratiosTo(w, c), to_one_write_per_frame: ratiosTo(w, b) };
  const met = {
    throughput: ratios.throughput >= TARGETS.throughput_ratio_min,
    cpu_per_message: ratios.cpu_per_message <= TARGETS.cpu_per_message_ratio_max,
    p99: ratios.p99 <= TARGETS.p99_ratio_max,
    p999: ratios.p999 <= TARGETS.p999_ratio_max,
    p99_low: ratios.p99_low <= TARGETS.p99_low_rate_ratio_max,
    cpu_per_connection: ratios.cpu_per_connection <= TARGETS.cpu_per_connection_ratio_max,
    memory:
      (w?.idle?.bytes_per_idle_connection ?? Number.POSITIVE_INFINITY) <=
      TARGETS.memory_per_idle_connection_max_bytes,
    heartbeat:
      (w?.idle?.heartbeat_server_cpu_percent ?? Number.POSITIVE_INFINITY) < TARGETS.heartbeat_cpu_percent_max,
  };
  const yes = (ok: boolean, value = 1) => (!Number.isFinite(value) ? "—" : ok ? "yes" : "**no**");
  const x = (n: number) => (Number.isFinite(n) ? `${fmt(n, 2)}×` : "n/a");
  const v = (n: number | undefined, digits: number, unit: string) =>
    n === undefined ? "—" : `${fmt(n, digits)}${unit}`;
  const rate = c?.latency?.offered_per_second ?? w?.latency?.offered_per_second ?? 0;
  const one = ratios.to_one_write_per_frame;
  const row = (
    figure: string,
    pick: (s: ServerResults | undefined) => string,
    key: keyof typeof one | undefined,
    target: string,
    ok: string,
  ): Row => ({
    figure,
    bare: pick(b),
    corked: pick(c),
    warren: pick(w),
    ratio: key ? x(ratios[key]) : "—",
    ratioBare: key ? x(one[key]) : "—",
    target,
    met: ok,
  });
  const rows: Row[] = [
    row(
      "relayed messages/s at saturation",
      (s) => v(s?.throughput?.messages_per_second, 0, ""),
      "throughput",
      `≥ ${TARGETS.throughput_ratio_min}×`,
      yes(met.throughput, ratios.throughput),
    ),
    row(
      "relayed messages per second of server main-thread CPU",
      (s) => v(s?.throughput?.messages_per_main_thread_second, 0, ""),
      "throughput_per_main_thread_second",
      "(same)",
      yes(
        ratios.throughput_per_main_thread_second >= TARGETS.throughput_ratio_min,
        ratios.throughput_per_main_thread_second,
      ),
    ),
    row(
      "server CPU per relayed message",
      (s) => v(s?.throughput?.server_cpu_us_per_message, 2, " µs"),
      "cpu_per_message",
      `≤ ${TARGETS.cpu_per_message_ratio_max}×`,
      yes(met.cpu_per_message, ratios.cpu_per_message),
    ),
    row(`p50 latency at ${fmt(rate, 0)} msg/s`, (s) => v(s?.latency?.p50_ms, 3, " ms"), "p50", "—", "—"),
    row(
      `p99 latency at ${fmt(rate, 0)} msg/s`,
      (s) => v(s?.latency?.p99_ms, 3, " ms"),
      "p99",
      `≤ ${TARGETS.p99_ratio_max}×`,
      yes(met.p99, ratios.p99),
    ),
    row(
      `p99.9 latency at ${fmt(rate, 0)} msg/s`,
      (s) => v(s?.latency?.p999_ms, 3, " ms"),
      "p999",
      `≤ ${TARGETS.p999_ratio_max}×`,
      yes(met.p999, ratios.p999),
    ),
    row(
      `p99 latency at ${fmt(c?.latency_low?.offered_per_second ?? w?.latency_low?.offered_per_second ?? 0, 0)} msg/s`,
      (s) => v(s?.latency_low?.p99_ms, 3, " ms"),
      "p99_low",
      `≤ ${TARGETS.p99_low_rate_ratio_max}×`,
      yes(met.p99_low, ratios.p99_low),
    ),
    row(
      "server CPU per accepted connection",
      (s) => v(s?.idle?.server_cpu_us_per_connection, 0, " µs"),
      "cpu_per_connection",
      `≤ ${TARGETS.cpu_per_connection_ratio_max}×`,
      yes(met.cpu_per_connection, ratios.cpu_per_connection),
    ),
    row(
      `server memory (RSS) per idle connection (${fmt(w?.idle?.connections ?? c?.idle?.connections ?? 0, 0)})`,
      (s) => v(s?.idle ? s.idle.bytes_per_idle_connection / 1024 : undefined, 2, " KiB"),
      "memory_per_idle_connection",
      "≤ 8 KiB",
      yes(met.memory, w?.idle?.bytes_per_idle_connection),
    ),
    row(
      `server CPU while idle (warren: heartbeat every ${w?.idle?.heartbeat_interval ?? "—"})`,
      (s) => v(s?.idle?.heartbeat_server_cpu_percent, 2, " % of a core"),
      undefined,
      "< 3 % of a core",
      yes(met.heartbeat, w?.idle?.heartbeat_server_cpu_percent),
    ),
  ];
  return { ratios, met, rows };
}

export function table(rows: Row[]): string {
  const head =
    "| figure | bare ws, a write per frame | corked ws (floor) | warren | warren/floor | warren/bare | target (to the floor) | met |\n" +
    "|---|---:|---:|---:|---:|---:|---|---|\n";
  return (
    head +
    rows
      .map(
        (r) =>
          `| ${r.figure} | ${r.bare} | ${r.corked} | ${r.warren} | ${r.ratio} | ${r.ratioBare} | ${r.target} | ${r.met} |`,
      )
      .join("\n")
  );
}

export function contextTable(r: Results, ratios: ReturnType<typeof compare>["ratios"]): string {
  const lines = ["| context | bare ws | corked ws | warren |", "|---|---:|---:|---:|"];
  const row = (name: string, f: (x: ServerResults) => string) =>
    lines.push(
      `| ${name} | ${r.bare ? f(r.bare) : "—"} | ${r.corked ? f(r.corked) : "—"} | ${r.warren ? f(r.warren) : "—"} |`,
    );
  const t = (f: (x: ThroughputResult) => string) => (x: ServerResults) =>
    x.throughput ? f(x.throughput) : "—";
  const l = (f: (x: LatencyResult) => string) => (x: ServerResults) => (x.latency ? f(x.latency) : "—");
  const i = (f: (x: IdleResult) => string) => (x: ServerResults) => (x.idle ? f(x.idle) : "—");
  row(
    "saturation: server cores (main thread) / load cores / everything else",
    t(
      (x) =>
        `${fmt(x.server_cores, 2)} (${fmt(x.server_main_thread_cores, 2)}) / ${fmt(x.load_cores, 2)} / ${fmt(x.other_cores, 2)}${x.contended ? " (contended)" : ""}`,
    ),
  );
  row(
    "saturation: write system calls per relayed message",
    t((x) => fmt(x.server_writes_per_message, 2)),
  );
  row(
    "saturation kmsg/s per window used (of all measured)",
    t(
      (x) =>
        `${x.rounds
          .filter((q) => q.used)
          .map((q) => fmt(q.relayed / q.seconds / 1000, 1))
          .join(", ")} (${x.rounds.length})`,
    ),
  );
  row(
    "errors at saturation / lost at the latency rate",
    (x) => `${x.throughput?.errors ?? "—"} / ${x.latency?.lost ?? "—"}`,
  );
  row(
    "latency p90 / p99.9 / max",
    l((x) => `${fmt(x.p90_ms, 2)} / ${fmt(x.p999_ms, 2)} / ${fmt(x.max_ms, 1)} ms`),
  );
  row(
    "latency p99 per window used (of all measured)",
    l((x) => `${x.round_p99_ms.map((p) => fmt(p, 2)).join(", ")} ms (${x.windows_measured})`),
  );
  row(
    "latency rate: server cores / everything else",
    l((x) => `${fmt(x.server_cores, 2)} / ${fmt(x.other_cores, 2)}${x.contended ? " (contended)" : ""}`),
  );
  row(
    "connections opened (failed), per second",
    i((x) => `${x.connections} (${x.failed}), ${fmt(x.connects_per_second, 0)}/s`),
  );
  row(
    "server RSS before → after idle connections",
    i((x) => `${fmt(x.rss_before_bytes / 2 ** 20, 1)} → ${fmt(x.rss_after_bytes / 2 ** 20, 1)} MiB`),
  );
  row(
    "idle window: pings seen by clients, server CPU per ping, same cost at the default 25 s",
    i((x) =>
      x.pings_seen_in_window
        ? `${x.pings_seen_in_window}, ${fmt(x.heartbeat_cpu_us_per_ping, 1)} µs, ${fmt(x.heartbeat_cpu_percent_at_25s, 2)} % of a core`
        : "0",
    ),
  );
  lines.push("");
  lines.push(`Median of the per-round p99 ratios to the floor: ${fmt(ratios.p99_median_of_rounds, 2)}×.`);
  return lines.join("\n");
}
