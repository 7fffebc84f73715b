import type BetterSqlite3 from "better-sqlite3";
import type { SqliteStatement } from "kysely";

type Row = Record<string, unknown>;

/**
 * A function that turns one raw row (its values in column order) into the object
 * better-sqlite3 would have made: the column names as properties, in order, a later
 * column of the same name winning. Made once per list of names, so every row it makes
 * has one shape. Undefined for a name an object literal cannot carry as a plain
 * property (`__proto__` would set the prototype): such a statement keeps
 * better-sqlite3's rows.
 */
export function rowMaker(names: readonly string[]): ((values: unknown[]) => Row) | undefined {
  if (names.includes("__proto__")) return undefined;
  const key = JSON.stringify(names);
  let make = makers.get(key);
  if (!make) {
    const fields = names.map((name, i) => `${JSON.stringify(name)}: v[${i}]`);
    make = new Function("v", `return { ${fields.join(", ")} };`) as (values: unknown[]) => Row;
    if (makers.size >= MAX_MAKERS) makers.clear();
    makers.set(key, make);
  }
  return make;
}

/**
 * Makers by column names: statements of the same columns (every `select *` of a table,
 * a query prepared again after the statement cache let it go) share one function, made
 * and compiled once.
 */
const makers = new Map<string, (values: unknown[]) => Row>();
const MAX_MAKERS = 1000;

/** A prepared statement as Kysely's SQLite driver and our hot reads use it. */
export interface Statement extends SqliteStatement {
  /** still iterating a streamed query: cannot run again until done */
  readonly busy: boolean;
}

/**
 * A better-sqlite3 statement whose rows are made in JavaScript. better-sqlite3 builds a
 * row object in C++, setting one property at a time by name (the name looked up in V8's
 * string table, the object's hidden class changed per column): under callgrind about
 * 2,500 instructions per column, more than SQLite spent finding the row. In raw mode it
 * hands back an array, which rowMaker's function turns into an object literal.
 */
export function shapedStatement(stmt: BetterSqlite3.Statement): Statement {
  const make = stmt.reader ? rowMaker(stmt.columns().map((c) => c.name)) : undefined;
  if (!make) return stmt as unknown as Statement;
  return {
    reader: true,
    get busy() {
      return stmt.busy;
    },
    all(parameters: readonly unknown[]): unknown[] {
      const rows = stmt.raw(true).all(parameters as unknown[]) as unknown[][];
      const out = new Array<Row>(rows.length);
      for (let i = 0; i < rows.length; i++) out[i] = make(rows[i] as unknown[]);
      return out;
    },
    run: (parameters: readonly unknown[]) => stmt.run(parameters as unknown[]),
    iterate: (parameters: readonly unknown[]) =>
      stmt.raw(false).iterate(parameters as unknown[]) as IterableIterator<unknown>,
  };
}
