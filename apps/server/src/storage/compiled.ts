import { type Compilable, CompiledQuery, type Kysely } from "kysely";
import { type ReadNow, readNowOf } from "./create-database.js";
import type { Schema } from "./schema.js";

/**
 * A query built and compiled to SQL once, for the hot paths (every WebSocket accept runs
 * two): building a Kysely query and compiling it costs more than running it on SQLite.
 * `build` is called once with placeholder strings; each call of the result runs the same
 * SQL with its own values in their places. The query's shape must not depend on the
 * values (no conditionals on them, no lists of varying length). It must only read: on
 * SQLite it runs at once, outside Kysely's connection queue (create-database.ts).
 */
export function compiled<P extends string[], R>(
  db: Kysely<Schema>,
  build: (...params: P) => Compilable<R>,
): (...params: P) => Promise<R[]> {
  let sql: string | undefined;
  /** per compiled parameter: the index of the caller's value, or the constant to keep */
  let slots: ({ param: number } | { value: unknown })[] = [];
  let readNow: ReadNow | undefined;
  return async (...params: P) => {
    if (sql === undefined) {
      readNow = readNowOf(db);
      const marks = params.map((_, i) => `\u0000compiled-param-${i}\u0000`) as P;
      const query = build(...marks).compile();
      slots = query.parameters.map((value) => {
        const i = marks.indexOf(value as string);
        return i === -1 ? { value } : { param: i };
      });
      const used = new Set(slots.flatMap((s) => ("param" in s ? [s.param] : [])));
      if (used.size !== params.length) throw new Error("compiled: every parameter must appear in the query");
      sql = query.sql;
    }
    const values = slots.map((s) => ("param" in s ? params[s.param] : s.value));
    const now = readNow?.(sql, values);
    if (now) return now as R[];
    const result = await db.executeQuery<R>(CompiledQuery.raw(sql, values));
    return result.rows;
  };
}

/** The sizes a multi-row write is cut into: a handful of SQL texts, each prepared once. */
const CHUNKS = [256, 64, 16, 4, 1];

/**
 * A multi-row write (an insert of many rows) compiled once per chunk size, for writes
 * on the hot path (analytics rows, one per WebSocket accept and close). Built and
 * compiled anew for each batch, a 500-row insert cost more in Kysely's parser and
 * compiler, and in SQLite preparing SQL it had not seen (every batch size is new text),
 * than in storing the rows. Rows go in chunks of CHUNKS sizes, in one transaction when
 * there is more than one (or in the caller's, on a repository made on a transaction).
 * `build` is called once per size with placeholder rows: the query's shape must depend
 * on the number of rows only.
 */
export function compiledRows<Row extends object>(
  db: Kysely<Schema>,
  columns: readonly (keyof Row & string)[],
  build: (rows: Row[]) => Compilable<unknown>,
): (rows: readonly Row[]) => Promise<void> {
  type Slot = { row: number; column: keyof Row & string } | { value: unknown };
  const shapes = new Map<number, { sql: string; slots: Slot[] }>();
  const shapeOf = (size: number) => {
    let shape = shapes.get(size);
    if (shape) return shape;
    const marks = new Map<string, { row: number; column: keyof Row & string }>();
    const rows = Array.from({ length: size }, (_, row) => {
      const placeholder: Record<string, string> = {};
      for (const column of columns) {
        const mark = `\u0000compiled-row-${row}-${column}\u0000`;
        marks.set(mark, { row, column });
        placeholder[column] = mark;
      }
      return placeholder as Row;
    });
    const query = build(rows).compile();
    const slots = query.parameters.map((value): Slot => marks.get(value as string) ?? { value });
    if (slots.filter((s) => "row" in s).length !== marks.size)
      throw new Error("compiledRows: every column of every row must appear in the query once");
    shape = { sql: query.sql, slots };
    shapes.set(size, shape);
    return shape;
  };
  const run = async (on: Kysely<Schema>, rows: readonly Row[]) => {
    for (let at = 0; at < rows.length; ) {
      const size = CHUNKS.find((c) => c <= rows.length - at) as number;
      const { sql, slots } = shapeOf(size);
      const values = slots.map((s) => ("row" in s ? (rows[at + s.row] as Row)[s.column] : s.value));
      await on.executeQuery(CompiledQuery.raw(sql, values));
      at += size;
    }
  };
  return async (rows) => {
    if (rows.length === 0) return;
    // Already in a transaction (a repository made on one), or one statement: as it is.
    if (db.isTransaction || CHUNKS.includes(rows.length)) return run(db, rows);
    await db.transaction().execute((tx) => run(tx, rows));
  };
}
