import { type Compilable, CompiledQuery, type Kysely } from "kysely";
import { readNowOf } from "./create-database.js";
import type { Schema } from "./schema.js";

/**
 * A query built and compiled to SQL once, for the hot paths (every WebSocket accept runs
 * two): building a Kysely query and compiling it costs more than running it on SQLite.
 * `build` is called once with placeholder strings; each call of the result runs the same
 * SQL with its own values in their places. The query's shape must not depend on the
 * values (no conditionals on them, no lists of varying length). It must only read: on
 * SQLite it runs on the read connection (create-database.ts), at once.
 */
export function compiled<P extends string[], R>(
  db: Kysely<Schema>,
  build: (...params: P) => Compilable<R>,
): (...params: P) => Promise<R[]> {
  let sql: string | undefined;
  /** per compiled parameter: the index of the caller's value, or the constant to keep */
  let slots: ({ param: number } | { value: unknown })[] = [];
  return async (...params: P) => {
    if (sql === undefined) {
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
    const readNow = readNowOf(db);
    if (readNow) return readNow(sql, values) as R[];
    const result = await db.executeQuery<R>(CompiledQuery.raw(sql, values));
    return result.rows;
  };
}
