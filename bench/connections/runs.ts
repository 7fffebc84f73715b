/**
 * Several runs of the connections benchmark, each server on a fresh process every run,
 * the order alternating (floor, warren; warren, floor; …) so drift on the shared machine
 * weighs on both alike. One run's accept ratio moved between 1.75× and 3.1× in one hour
 * on the same code: the table reads the median of the runs, and lists each run's ratios.
 */
import type { Figures } from "./table.js";

const median = (values: number[]): number => {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/**
 * Every figure the median of the runs', but the storm's: its clients, welcomed and
 * refusals are added up over the runs, and its time is the slowest run's (the target is
 * "every storm within 10 s").
 */
export function medianOf(runs: Figures[]): Figures {
  const first = runs[0];
  if (!first) throw new Error("no runs");
  const out = { ...first } as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(first)) {
    if (typeof value === "number")
      out[key] = median(runs.map((r) => (r as unknown as Record<string, number>)[key] as number));
  }
  const refused: Record<string, number> = {};
  for (const r of runs)
    for (const [reason, n] of Object.entries(r.storm.refused)) refused[reason] = (refused[reason] ?? 0) + n;
  out.storm = {
    clients: runs.reduce((n, r) => n + r.storm.clients, 0),
    welcomed: runs.reduce((n, r) => n + r.storm.welcomed, 0),
    refused,
    seconds: Math.max(...runs.map((r) => r.storm.seconds)),
    server_cpu_seconds: median(runs.map((r) => r.storm.server_cpu_seconds)),
    server_cpu_us_per_connection: median(runs.map((r) => r.storm.server_cpu_us_per_connection)),
  };
  return out as unknown as Figures;
}

/** Each run's warren/floor ratio of one figure, in run order. */
export function runRatios(floor: Figures[], warren: Figures[], v: (f: Figures) => number): number[] {
  return warren.map((w, i) => {
    const f = floor[i];
    return f && v(f) > 0 ? v(w) / v(f) : Number.NaN;
  });
}
