/** The cluster benchmark's tables and its cluster/single ratios. */
import { fmt } from "../relay/report.js";
import { median } from "../relay/results.js";
import type { ClusterResults, CpuSplit, LatencySummary, SetupResults, ThroughputSummary } from "./results.js";

const ratio = (x?: number, y?: number) => (x !== undefined && y !== undefined && y > 0 ? x / y : Number.NaN);

export function ratios(r: ClusterResults) {
  const s = r.single;
  const c = r.cluster;
  return {
    throughput: ratio(c?.throughput?.messages_per_second, s?.throughput?.messages_per_second),
    cpu_per_message: ratio(
      c?.throughput?.server_cpu_us_per_message,
      s?.throughput?.server_cpu_us_per_message,
    ),
    cpu_per_message_at_latency_rate: ratio(
      c?.latency?.server_cpu_us_per_message,
      s?.latency?.server_cpu_us_per_message,
    ),
    p50: ratio(c?.latency?.p50_ms, s?.latency?.p50_ms),
    p99: ratio(c?.latency?.p99_ms, s?.latency?.p99_ms),
    p99_median_of_rounds: median(
      (c?.latency?.round_p99_ms ?? []).map((x, i) => x / (s?.latency?.round_p99_ms[i] ?? Number.NaN)),
    ),
  };
}
export type Ratios = ReturnType<typeof ratios>;

const x = (n: number) => (Number.isFinite(n) ? `${fmt(n, 2)}×` : "n/a");
const v = (n: number | undefined, digits: number, unit = "") =>
  n === undefined ? "—" : `${fmt(n, digits)}${unit}`;

/** "A 9.10 / B 4.20 / Redis 6.00 µs" or "12.00 µs" */
function split(c: CpuSplit | undefined, roles: string[], redis: boolean): string {
  if (!c) return "—";
  const parts = c.instance_cpu_us_per_message.map((us, i) => `${roles[i]} ${fmt(us, 2)}`);
  if (redis) parts.push(`Redis ${fmt(c.redis_cpu_us_per_message, 2)}`);
  return `${parts.join(" + ")} µs`;
}

export function table(r: ClusterResults, q: Ratios): string {
  const s = r.single;
  const c = r.cluster;
  const rate = fmt(s?.latency?.offered_per_second ?? c?.latency?.offered_per_second ?? 0, 0);
  const rows: [string, string, string, string][] = [
    [
      "relayed messages/s at saturation",
      v(s?.throughput?.messages_per_second, 0),
      v(c?.throughput?.messages_per_second, 0),
      x(q.throughput),
    ],
    [
      "server CPU per relayed message at saturation (cluster: A + B + Redis)",
      v(s?.throughput?.server_cpu_us_per_message, 2, " µs"),
      v(c?.throughput?.server_cpu_us_per_message, 2, " µs"),
      x(q.cpu_per_message),
    ],
    [
      `p50 latency at ${rate} msg/s`,
      v(s?.latency?.p50_ms, 3, " ms"),
      v(c?.latency?.p50_ms, 3, " ms"),
      x(q.p50),
    ],
    [
      `p99 latency at ${rate} msg/s`,
      v(s?.latency?.p99_ms, 3, " ms"),
      v(c?.latency?.p99_ms, 3, " ms"),
      x(q.p99),
    ],
    [
      `server CPU per relayed message at ${rate} msg/s`,
      v(s?.latency?.server_cpu_us_per_message, 2, " µs"),
      v(c?.latency?.server_cpu_us_per_message, 2, " µs"),
      x(q.cpu_per_message_at_latency_rate),
    ],
  ];
  return [
    "| figure | one instance | two instances + Redis | cluster/single |",
    "|---|---:|---:|---:|",
    ...rows.map((row) => `| ${row.join(" | ")} |`),
  ].join("\n");
}

/** Redis commands per relayed message, µs Redis spent per call in brackets, most called first. */
function commands(c: CpuSplit | undefined): string {
  if (!c) return "—";
  const names = Object.keys(c.redis_calls_per_message).sort(
    (a, b) => (c.redis_calls_per_message[b] ?? 0) - (c.redis_calls_per_message[a] ?? 0),
  );
  const shown = names.filter((n) => (c.redis_calls_per_message[n] ?? 0) >= 0.01);
  if (shown.length === 0) return "none";
  return shown
    .map(
      (n) => `${n} ${fmt(c.redis_calls_per_message[n] ?? 0, 2)} (${fmt(c.redis_us_per_call[n] ?? 0, 1)} µs)`,
    )
    .join(", ");
}

export function contextTable(r: ClusterResults, q: Ratios): string {
  const lines = ["| context | one instance | two instances + Redis |", "|---|---:|---:|"];
  const row = (name: string, f: (x: SetupResults, cluster: boolean) => string) =>
    lines.push(
      `| ${name} | ${r.single ? f(r.single, false) : "—"} | ${r.cluster ? f(r.cluster, true) : "—"} |`,
    );
  const t = (f: (x: ThroughputSummary, cluster: boolean) => string) => (x: SetupResults, c: boolean) =>
    x.throughput ? f(x.throughput, c) : "—";
  const l = (f: (x: LatencySummary, cluster: boolean) => string) => (x: SetupResults, c: boolean) =>
    x.latency ? f(x.latency, c) : "—";
  const roles = (c: boolean) => (c ? ["A", "B"] : ["single"]);
  row(
    "saturation: CPU per relayed message by process",
    t((x, c) => split(x, roles(c), c)),
  );
  row(
    "saturation: server cores (of which Redis) / load cores / everything else",
    t(
      (x) =>
        `${fmt(x.server_cores, 2)} (${fmt(x.redis_cores, 2)}) / ${fmt(x.load_cores, 2)} / ${fmt(x.other_cores, 2)}${x.contended ? " (contended)" : ""}`,
    ),
  );
  row(
    "saturation kmsg/s per window used (of all measured)",
    t(
      (x) =>
        `${x.windows
          .filter((w) => w.used)
          .map((w) => fmt(w.relayed / w.seconds / 1000, 1))
          .join(", ")} (${x.windows.length})`,
    ),
  );
  row(
    "saturation: Redis commands per relayed message (µs per call)",
    t((x) => commands(x)),
  );
  row(
    "saturation: read / write system calls per relayed message by process",
    t((x, c) => {
      const parts = x.instance_reads_per_message.map(
        (rd, i) => `${roles(c)[i]} ${fmt(rd, 2)} / ${fmt(x.instance_writes_per_message[i] ?? Number.NaN, 2)}`,
      );
      if (c) parts.push(`Redis ${fmt(x.redis_reads_per_message, 2)} / ${fmt(x.redis_writes_per_message, 2)}`);
      return parts.join("; ");
    }),
  );
  row(
    "errors at saturation / at the latency rate; frames not arrived by the end of a latency window + 0.5 s",
    (x) => `${x.throughput?.errors ?? "—"} / ${x.latency?.errors ?? "—"}; ${x.latency?.lost ?? "—"}`,
  );
  row("whole run: frames sent / received / refused / lost", (x) =>
    x.delivery
      ? `${x.delivery.sent} / ${x.delivery.received} / ${x.delivery.errors} / ${x.delivery.undelivered}`
      : "—",
  );
  row(
    "latency p90 / p99.9 / max",
    l((x) => `${fmt(x.p90_ms, 2)} / ${fmt(x.p999_ms, 2)} / ${fmt(x.max_ms, 1)} ms`),
  );
  row(
    "latency p99 per window used (of all measured)",
    l((x) => `${x.round_p99_ms.map((p) => fmt(p, 2)).join(", ")} ms (${x.windows.length})`),
  );
  row(
    "latency rate: CPU per relayed message by process",
    l((x, c) => split(x, roles(c), c)),
  );
  row(
    "latency rate: Redis commands per relayed message (µs per call)",
    l((x) => commands(x)),
  );
  row(
    "latency rate: server cores (of which Redis) / everything else",
    l(
      (x) =>
        `${fmt(x.server_cores, 2)} (${fmt(x.redis_cores, 2)}) / ${fmt(x.other_cores, 2)}${x.contended ? " (contended)" : ""}`,
    ),
  );
  lines.push("");
  lines.push(`Median of the per-round p99 ratios: ${x(q.p99_median_of_rounds)}.`);
  return lines.join("\n");
}
