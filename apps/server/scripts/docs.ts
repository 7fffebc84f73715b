import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { buildApp } from "../src/app.js";
import { createMemoryBus } from "../src/bus/memory-bus.js";
import { systemClock } from "../src/clock.js";
import { flagOf, loadConfig, SETTINGS } from "../src/config.js";
import { createMetrics } from "../src/observability/metrics.js";
import { createSealer } from "../src/sealer.js";
import { createServices } from "../src/services/index.js";
import { createMemoryState } from "../src/state/index.js";
import { createDatabase } from "../src/storage/create-database.js";
import { migrate } from "../src/storage/migrations/index.js";
import { createRepositories } from "../src/storage/repositories/index.js";

/**
 * Generated documentation: the OpenAPI document and the README's configuration table.
 * Pure functions here; scripts/write-docs.ts writes the files (npm run docs) and
 * test/docs.test.ts fails when the committed files differ from what these return.
 */

export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const OPENAPI_FILE = "docs/openapi.json";
export const README_FILE = "README.md";
export const CONFIG_START = "<!-- config:start -->";
export const CONFIG_END = "<!-- config:end -->";

/** Markdown table cells: a pipe would end the cell, a newline the row. */
function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/**
 * The README's configuration table, one row per entry of SETTINGS. Columns are padded
 * the way Biome formats Markdown tables, so `npm run lint` and this agree.
 */
export function renderConfigTable(): string {
  const header = ["Variable", "Flag", "Default", "Meaning"];
  const rows = SETTINGS.map((s) => [
    `\`${s.env}\``,
    `\`${flagOf(s.env)}\``,
    s.default === "" ? "(unset)" : `\`${s.default}\``,
    cell(s.doc),
  ]);
  const width = (text: string) => [...text].length;
  const widths = header.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ""))));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => c + " ".repeat((widths[i] ?? 0) - width(c))).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** `readme` with the text between the config markers replaced by the current table. */
export function withConfigTable(readme: string): string {
  const start = readme.indexOf(CONFIG_START);
  const end = readme.indexOf(CONFIG_END);
  if (start < 0 || end < start) {
    throw new Error(`${README_FILE} needs the markers ${CONFIG_START} and ${CONFIG_END}, in that order`);
  }
  return `${readme.slice(0, start + CONFIG_START.length)}\n\n${renderConfigTable()}\n\n${readme.slice(end)}`;
}

/**
 * The OpenAPI document the server serves at /v1/openapi.json, built in-process without
 * listening: a throwaway in-memory SQLite database and signing secret.
 */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const config = loadConfig({ LOG_LEVEL: "silent", NODE_ENV: "development" });
  const database = createDatabase({ dbPath: ":memory:" });
  try {
    await migrate(database.db);
    const bus = createMemoryBus();
    const state = createMemoryState({ messageRate: 1, messageBurst: 1 });
    const services = createServices({
      database,
      repos: createRepositories(database.db),
      config,
      signingSecret: randomBytes(32),
      sealer: createSealer({ current: randomBytes(32), old: [] }),
      bus,
      state,
      clock: systemClock,
    });
    const app = await buildApp({
      config,
      services,
      metrics: createMetrics(),
      stats: () => Promise.reject(new Error("not served")),
    });
    try {
      await app.fastify.ready();
      return app.fastify.swagger() as unknown as Record<string, unknown>;
    } finally {
      await app.fastify.close();
    }
  } finally {
    await database.close();
  }
}

/** How docs/openapi.json is written: 2-space JSON with a trailing newline. */
export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
