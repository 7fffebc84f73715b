/** The connections benchmark's figures, its targets and the table it prints. */
import { fmt } from "../relay/report.js";

export const TARGETS = {
  cpu_per_connection_ratio_max: 2,
  heap_per_connection_ratio_max: 1.2,
  storm_all_welcomed_seconds_max: 10,
};

export interface Figures {
  connections: number;
  failed: number;
  connect_seconds: number;
  /** from the upgrade request to the welcome (warren) or the open (floor), on a fresh process */
  server_cpu_us_per_connection: number;
  /**
   * the same, on a warm process: after the storm every client drops again and all
   * reconnect at the pace of the first round
   */
  server_cpu_us_per_connection_warm: number;
  /** of those, the kernel's time (system calls: the socket, the handshake's writes, SQLite's files) */
  server_kernel_us_per_connection: number;
  server_kernel_us_per_connection_warm: number;
  /** a socket's first frame and the answer to it, after the accept */
  server_cpu_us_per_first_frame: number;
  /** the server's read and write system calls per accepted connection */
  reads_per_connection: number;
  writes_per_connection: number;
  heap_before_bytes: number;
  heap_after_bytes: number;
  heap_bytes_per_connection: number;
  external_bytes_per_connection: number;
  rss_bytes_per_connection: number;
  storm: {
    clients: number;
    welcomed: number;
    refused: Record<string, number>;
    /** from the moment every client reconnects until the last is welcomed */
    seconds: number;
    server_cpu_seconds: number;
    server_cpu_us_per_connection: number;
  };
}

/**
 * The table of one run, or of several runs' medians (runs.ts) with `perRun`: each run's
 * warren/floor ratio of the accept, fresh and warm.
 */
export function table(
  floor: Figures | undefined,
  warren: Figures | undefined,
  perRun?: { fresh: number[]; warm: number[] },
): string {
  const cell = (f: Figures | undefined, v: (x: Figures) => number, digits = 0) =>
    f ? fmt(v(f), digits) : "—";
  const verdict = (ok: boolean | undefined) => (ok === undefined ? "" : ok ? " ✓" : " ✗");
  /** A figure of both servers, their ratio, and the ratio's target if it has one. */
  const compared = (label: string, v: (x: Figures) => number, digits = 0, maxRatio?: number) => {
    const ratio = warren && floor && v(floor) > 0 ? v(warren) / v(floor) : undefined;
    return [
      label,
      cell(floor, v, digits),
      cell(warren, v, digits),
      ratio === undefined ? "—" : `${fmt(ratio, 2)}×`,
      maxRatio === undefined
        ? ""
        : `≤ ${maxRatio}×${verdict(ratio === undefined ? undefined : ratio <= maxRatio)}`,
    ];
  };
  const both = (label: string, text: (x: Figures) => string, target = "") => [
    label,
    floor ? text(floor) : "—",
    warren ? text(warren) : "—",
    "",
    target,
  ];
  const stormOk = warren
    ? warren.storm.welcomed === warren.storm.clients &&
      warren.storm.seconds <= TARGETS.storm_all_welcomed_seconds_max
    : undefined;
  const rows = [
    ["figure", "corked floor", "warren", "warren/floor", "target"],
    ["---", "---:", "---:", "---:", "---"],
    compared(
      "server CPU per accept (upgrade to welcome), fresh process, µs",
      (f) => f.server_cpu_us_per_connection,
      0,
      TARGETS.cpu_per_connection_ratio_max,
    ),
    compared(
      "the same on a warm process (every client reconnects again), µs",
      (f) => f.server_cpu_us_per_connection_warm,
      0,
      TARGETS.cpu_per_connection_ratio_max,
    ),
    ...(perRun
      ? [
          [
            "each run's ratio, fresh; warm",
            "",
            "",
            `${perRun.fresh.map((r) => `${fmt(r, 2)}×`).join(", ")}; ${perRun.warm.map((r) => `${fmt(r, 2)}×`).join(", ")}`,
            "",
          ],
        ]
      : []),
    both(
      "of which in the kernel, fresh / warm, µs",
      (f) =>
        `${fmt(f.server_kernel_us_per_connection, 0)} / ${fmt(f.server_kernel_us_per_connection_warm, 0)}`,
    ),
    compared("server CPU per first frame and its answer, µs", (f) => f.server_cpu_us_per_first_frame),
    both(
      "server read / write system calls per accept",
      (f) => `${fmt(f.reads_per_connection, 2)} / ${fmt(f.writes_per_connection, 2)}`,
    ),
    compared(
      "heap per idle connection after GC, bytes",
      (f) => f.heap_bytes_per_connection,
      0,
      TARGETS.heap_per_connection_ratio_max,
    ),
    compared("external (buffers) per idle connection, bytes", (f) => f.external_bytes_per_connection),
    compared("RSS per idle connection, bytes", (f) => f.rss_bytes_per_connection),
    [
      ...compared(
        "storm: all reconnect at once, s until the last is welcomed",
        (f) => f.storm.seconds,
        2,
      ).slice(0, 4),
      `all within ${TARGETS.storm_all_welcomed_seconds_max} s${verdict(stormOk)}`,
    ],
    both("storm: welcomed / clients", (f) => `${f.storm.welcomed} / ${f.storm.clients}`),
    both(
      "storm: refused",
      (f) =>
        Object.entries(f.storm.refused)
          .map(([k, v]) => `${v} ${k}`)
          .join("; ") || "none",
      "none",
    ),
    compared("storm: server CPU per reconnect, µs", (f) => f.storm.server_cpu_us_per_connection),
  ];
  return rows.map((r) => `| ${r.join(" | ")} |`).join("\n");
}
