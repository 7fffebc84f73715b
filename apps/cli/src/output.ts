import { WarrenError } from "@warren/sdk";

/**
 * What the CLI prints. Results go to stdout (JSON with --json, aligned text
 * otherwise); progress and errors go to stderr, so `warren … --json | jq` and
 * `warren config net > wg0.conf` see only the result.
 */

/** An error of the CLI itself (not a server answer), with the exit code it ends with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    readonly code = "cli_error",
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** Exit code 2: the command line was wrong. */
export const usageError = (message: string) => new CliError(message, 2, "usage");

export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
}

/**
 * Text that came from the server (names, descriptions) could carry terminal escape
 * sequences; control characters become "?" before they reach a terminal.
 */
export function clean(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we replace
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, "?");
}

/** A cell or field value as text: null as "-", timestamps shortened, lists joined. */
export function cell(value: unknown): string {
  if (value === null || value === undefined || value === "") return "-";
  if (Array.isArray(value)) return value.length ? value.map(cell).join(", ") : "-";
  if (typeof value === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(value)) {
    return `${value.slice(0, 10)} ${value.slice(11, 16)}`;
  }
  return clean(String(value));
}

/** Rows as left-aligned columns under upper-case headers, two spaces apart. */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const grid = [
    columns.map((c) => c.header.toUpperCase()),
    ...rows.map((r) => columns.map((c) => cell(c.value(r)))),
  ];
  const widths = columns.map((_, i) => Math.max(...grid.map((line) => (line[i] ?? "").length)));
  return grid
    .map((line) =>
      line
        .map((text, i) => (i === line.length - 1 ? text : text.padEnd(widths[i] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** "key: value" lines, keys aligned. */
export function fields(pairs: readonly [string, unknown][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 1;
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width)} ${cell(v)}`).join("\n");
}

export function print(text: string): void {
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value ?? null, null, 2)}\n`);
}

/** The result of a command: `value` as JSON with --json, else `text(value)`. */
export function emit<T>(json: boolean | undefined, value: T, text: (value: T) => string): void {
  if (json) printJson(value);
  else print(text(value));
}

/** A list: JSON with --json, a table, or `empty` when there is nothing. */
export function emitList<T>(
  json: boolean | undefined,
  value: unknown,
  rows: readonly T[],
  columns: readonly Column<T>[],
  empty: string,
): void {
  if (json) printJson(value);
  else print(rows.length ? table(rows, columns) : empty);
}

/** A step of a longer operation, on stderr so it never mixes with the result. */
export function progress(message: string): void {
  process.stderr.write(`${message}…\n`);
}

export function warn(message: string): void {
  process.stderr.write(`warning: ${message}\n`);
}

/**
 * Prints an error to stderr (the server's message and code for a server answer;
 * JSON on one line with --json) and returns the exit code: 1, or 2 for usage errors.
 */
export function printError(err: unknown, json = false): number {
  let body: { code: string; message: string; status?: number; details?: unknown };
  let exitCode = 1;
  if (err instanceof WarrenError) {
    body = { code: err.code, message: err.message, status: err.status };
    if (err.details !== undefined) body.details = err.details;
  } else if (err instanceof CliError) {
    body = { code: err.code, message: err.message };
    exitCode = err.exitCode;
  } else {
    body = { code: "error", message: err instanceof Error ? err.message : String(err) };
  }
  if (json) {
    process.stderr.write(`${JSON.stringify({ error: body })}\n`);
  } else {
    const code = err instanceof WarrenError ? ` (${err.code})` : "";
    process.stderr.write(`error: ${clean(body.message)}${code}\n`);
    const detail = details(body.details);
    if (detail) process.stderr.write(`${detail}\n`);
  }
  return exitCode;
}

/** A validation error's details (which field, why), when the server sent them. */
function details(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 500 ? `  ${clean(text.slice(0, 500))}…` : `  ${clean(text)}`;
}
