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

export function table(floor: Figures | undefined, warren: Figures | undefined): string {
  const ratio = (w: number | undefined, f: number | undefined) =>
    w !== undefined && f !== undefined && f > 0 ? `${fmt(w / f, 2)}×` : "—";
  const cell = (f: Figures | undefined, v: (x: Figures) => number, digits = 0) =>
    f ? fmt(v(f), digits) : "—";
  const verdict = (ok: boolean | undefined) => (ok === undefined ? "" : ok ? " ✓" : " ✗");
  const cpuRatio =
    warren && floor ? warren.server_cpu_us_per_connection / floor.server_cpu_us_per_connection : undefined;
  const warmRatio =
    warren && floor
      ? warren.server_cpu_us_per_connection_warm / floor.server_cpu_us_per_connection_warm
      : undefined;
  const heapRatio =
    warren && floor ? warren.heap_bytes_per_connection / floor.heap_bytes_per_connection : undefined;
  const stormOk = warren
    ? warren.storm.welcomed === warren.storm.clients && warren.storm.seconds <= 10
    : undefined;
  const refused = (f: Figures | undefined) =>
    f
      ? Object.entries(f.storm.refused)
          .map(([k, v]) => `${v} ${k}`)
          .join("; ") || "none"
      : "—";
  const rows = [
    ["figure", "corked floor", "warren", "warren/floor", "target"],
    ["---", "---:", "---:", "---:", "---"],
    [
      "server CPU per accept (upgrade to welcome), fresh process, µs",
      cell(floor, (f) => f.server_cpu_us_per_connection),
      cell(warren, (f) => f.server_cpu_us_per_connection),
      ratio(warren?.server_cpu_us_per_connection, floor?.server_cpu_us_per_connection),
      `≤ ${TARGETS.cpu_per_connection_ratio_max}×${verdict(cpuRatio === undefined ? undefined : cpuRatio <= TARGETS.cpu_per_connection_ratio_max)}`,
    ],
    [
      "the same on a warm process (every client reconnects again), µs",
      cell(floor, (f) => f.server_cpu_us_per_connection_warm),
      cell(warren, (f) => f.server_cpu_us_per_connection_warm),
      ratio(warren?.server_cpu_us_per_connection_warm, floor?.server_cpu_us_per_connection_warm),
      `≤ ${TARGETS.cpu_per_connection_ratio_max}×${verdict(warmRatio === undefined ? undefined : warmRatio <= TARGETS.cpu_per_connection_ratio_max)}`,
    ],
    [
      "server CPU per first frame and its answer, µs",
      cell(floor, (f) => f.server_cpu_us_per_first_frame),
      cell(warren, (f) => f.server_cpu_us_per_first_frame),
      ratio(warren?.server_cpu_us_per_first_frame, floor?.server_cpu_us_per_first_frame),
      "",
    ],
    [
      "server read / write system calls per accept",
      floor ? `${fmt(floor.reads_per_connection, 2)} / ${fmt(floor.writes_per_connection, 2)}` : "—",
      warren ? `${fmt(warren.reads_per_connection, 2)} / ${fmt(warren.writes_per_connection, 2)}` : "—",
      "",
      "",
    ],
    [
      "heap per idle connection after GC, bytes",
      cell(floor, (f) => f.heap_bytes_per_connection),
      cell(warren, (f) => f.heap_bytes_per_connection),
      ratio(warren?.heap_bytes_per_connection, floor?.heap_bytes_per_connection),
      `≤ ${TARGETS.heap_per_connection_ratio_max}×${verdict(heapRatio === undefined ? undefined : heapRatio <= TARGETS.heap_per_connection_ratio_max)}`,
    ],
    [
      "external (buffers) per idle connection, bytes",
      cell(floor, (f) => f.external_bytes_per_connection),
      cell(warren, (f) => f.external_bytes_per_connection),
      ratio(warren?.external_bytes_per_connection, floor?.external_bytes_per_connection),
      "",
    ],
    [
      "RSS per idle connection, bytes",
      cell(floor, (f) => f.rss_bytes_per_connection),
      cell(warren, (f) => f.rss_bytes_per_connection),
      ratio(warren?.rss_bytes_per_connection, floor?.rss_bytes_per_connection),
      "",
    ],
    [
      "storm: all reconnect at once, s until the last is welcomed",
      cell(floor, (f) => f.storm.seconds, 2),
      cell(warren, (f) => f.storm.seconds, 2),
      ratio(warren?.storm.seconds, floor?.storm.seconds),
      `all within ${TARGETS.storm_all_welcomed_seconds_max} s${verdict(stormOk)}`,
    ],
    [
      "storm: welcomed / clients",
      floor ? `${floor.storm.welcomed} / ${floor.storm.clients}` : "—",
      warren ? `${warren.storm.welcomed} / ${warren.storm.clients}` : "—",
      "",
      "",
    ],
    ["storm: refused", refused(floor), refused(warren), "", "none"],
    [
      "storm: server CPU per reconnect, µs",
      cell(floor, (f) => f.storm.server_cpu_us_per_connection),
      cell(warren, (f) => f.storm.server_cpu_us_per_connection),
      ratio(warren?.storm.server_cpu_us_per_connection, floor?.storm.server_cpu_us_per_connection),
      "",
    ],
  ];
  return rows.map((r) => `| ${r.join(" | ")} |`).join("\n");
}
