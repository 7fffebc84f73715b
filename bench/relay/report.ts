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
  warren: string;
  ratio: string;
  target: string;
  met: string;
}

export function compare(r: Results) {
  const b = r.bare;
  const w = r.warren;
  const ratio = (x?: number, y?: number) =>
    x !== undefined && y !== undefined && y > 0 ? x / y : Number.NaN;
  const ratios = {
    throughput: ratio(w?.throughput?.messages_per_second, b?.throughput?.messages_per_second),
    throughput_per_main_thread_second: ratio(
      w?.throughput?.messages_per_main_thread_second,
      b?.throughput?.messages_per_main_thread_second,
    ),
    cpu_per_message: ratio(
      w?.throughput?.server_cpu_us_per_message,
      b?.throughput?.server_cpu_us_per_message,
    ),
    p50: ratio(w?.latency?.p50_ms, b?.latency?.p50_ms),
    p99: ratio(w?.latency?.p99_ms, b?.latency?.p99_ms),
    p99_median_of_rounds: median(
      (w?.latency?.round_p99_ms ?? []).map((x, i) => x / (b?.latency?.round_p99_ms[i] ?? Number.NaN)),
    ),
    cpu_per_connection: ratio(w?.idle?.server_cpu_us_per_connection, b?.idle?.server_cpu_us_per_connection),
    memory_per_idle_connection: ratio(w?.idle?.bytes_per_idle_connection, b?.idle?.bytes_per_idle_connection),
  };
  const met = {
    throughput: ratios.throughput >= TARGETS.throughput_ratio_min,
    cpu_per_message: ratios.cpu_per_message <= TARGETS.cpu_per_message_ratio_max,
    p99: ratios.p99 <= TARGETS.p99_ratio_max,
    memory:
      (w?.idle?.bytes_per_idle_connection ?? Number.POSITIVE_INFINITY) <=
      TARGETS.memory_per_idle_connection_max_bytes,
    heartbeat:
      (w?.idle?.heartbeat_server_cpu_percent ?? Number.POSITIVE_INFINITY) < TARGETS.heartbeat_cpu_percent_max,
  };
  const yes = (ok: boolean, ratio = 1) => (!Number.isFinite(ratio) ? "—" : ok ? "yes" : "**no**");
  const x = (n: number) => (Number.isFinite(n) ? `${fmt(n, 2)}×` : "n/a");
  const v = (n: number | undefined, digits: number, unit: string) =>
    n === undefined ? "—" : `${fmt(n, digits)}${unit}`;
  const rate = b?.latency?.offered_per_second ?? w?.latency?.offered_per_second ?? 0;
  const rows: Row[] = [
    {
      figure: "relayed messages/s at saturation",
      bare: v(b?.throughput?.messages_per_second, 0, ""),
      warren: v(w?.throughput?.messages_per_second, 0, ""),
      ratio: x(ratios.throughput),
      target: `≥ ${TARGETS.throughput_ratio_min}×`,
      met: yes(met.throughput, ratios.throughput),
    },
    {
      figure: "relayed messages per second of server main-thread CPU",
      bare: v(b?.throughput?.messages_per_main_thread_second, 0, ""),
      warren: v(w?.throughput?.messages_per_main_thread_second, 0, ""),
      ratio: x(ratios.throughput_per_main_thread_second),
      target: "(same)",
      met: yes(
        ratios.throughput_per_main_thread_second >= TARGETS.throughput_ratio_min,
        ratios.throughput_per_main_thread_second,
      ),
    },
    {
      figure: "server CPU per relayed message",
      bare: v(b?.throughput?.server_cpu_us_per_message, 2, " µs"),
      warren: v(w?.throughput?.server_cpu_us_per_message, 2, " µs"),
      ratio: x(ratios.cpu_per_message),
      target: `≤ ${TARGETS.cpu_per_message_ratio_max}×`,
      met: yes(met.cpu_per_message, ratios.cpu_per_message),
    },
    {
      figure: `p50 latency at ${fmt(rate, 0)} msg/s`,
      bare: v(b?.latency?.p50_ms, 3, " ms"),
      warren: v(w?.latency?.p50_ms, 3, " ms"),
      ratio: x(ratios.p50),
      target: "—",
      met: "—",
    },
    {
      figure: `p99 latency at ${fmt(rate, 0)} msg/s`,
      bare: v(b?.latency?.p99_ms, 3, " ms"),
      warren: v(w?.latency?.p99_ms, 3, " ms"),
      ratio: x(ratios.p99),
      target: `≤ ${TARGETS.p99_ratio_max}×`,
      met: yes(met.p99, ratios.p99),
    },
    {
      figure: "server CPU per accepted connection",
      bare: v(b?.idle?.server_cpu_us_per_connection, 0, " µs"),
      warren: v(w?.idle?.server_cpu_us_per_connection, 0, " µs"),
      ratio: x(ratios.cpu_per_connection),
      target: "—",
      met: "—",
    },
    {
      figure: `server memory per idle connection (${fmt(w?.idle?.connections ?? b?.idle?.connections ?? 0, 0)})`,
      bare: v(b?.idle ? b.idle.bytes_per_idle_connection / 1024 : undefined, 2, " KiB"),
      warren: v(w?.idle ? w.idle.bytes_per_idle_connection / 1024 : undefined, 2, " KiB"),
      ratio: x(ratios.memory_per_idle_connection),
      target: "≤ 8 KiB",
      met: yes(met.memory, w?.idle?.bytes_per_idle_connection),
    },
    {
      figure: `server CPU while idle (warren: heartbeat every ${w?.idle?.heartbeat_interval ?? "—"})`,
      bare: v(b?.idle?.heartbeat_server_cpu_percent, 2, " % of a core"),
      warren: v(w?.idle?.heartbeat_server_cpu_percent, 2, " % of a core"),
      ratio: "—",
      target: "< 3 % of a core",
      met: yes(met.heartbeat, w?.idle?.heartbeat_server_cpu_percent),
    },
  ];
  return { ratios, met, rows };
}

export function table(rows: Row[]): string {
  const head = "| figure | bare ws | warren | warren/bare | target | met |\n|---|---:|---:|---:|---|---|\n";
  return (
    head +
    rows
      .map((r) => `| ${r.figure} | ${r.bare} | ${r.warren} | ${r.ratio} | ${r.target} | ${r.met} |`)
      .join("\n")
  );
}

export function contextTable(r: Results, ratios: ReturnType<typeof compare>["ratios"]): string {
  const lines = ["| context | bare ws | warren |", "|---|---:|---:|"];
  const row = (name: string, f: (x: ServerResults) => string) =>
    lines.push(`| ${name} | ${r.bare ? f(r.bare) : "—"} | ${r.warren ? f(r.warren) : "—"} |`);
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
  lines.push(`Median of the per-round p99 ratios: ${fmt(ratios.p99_median_of_rounds, 2)}×.`);
  return lines.join("\n");
}
