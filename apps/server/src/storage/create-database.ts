import { mkdirSync } from "node:fs";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect, sql } from "kysely";
import pg from "pg";
import type { Schema } from "./schema.js";
import { type Statement, shapedStatement } from "./sqlite-rows.js";

export type Dialect = "sqlite" | "postgres";

export interface Database {
  db: Kysely<Schema>;
  dialect: Dialect;
  /** Resolves when the database answers a trivial query within timeoutMs. */
  ping(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  databaseUrl?: string | undefined;
  dbPath: string;
  poolSize?: number;
  /**
   * Bounds on every query, so a lock held elsewhere or a stuck statement answers 503
   * within seconds instead of holding the request (and a pooled connection) for good.
   * Unset: no bounds (migrations, which may rightly run long).
   */
  timeouts?: DatabaseTimeouts | undefined;
}

export interface DatabaseTimeouts {
  statementMs: number;
  lockMs: number;
  acquireMs: number;
}

/** SQLite waits for a lock on the event loop itself: never longer than this. */
const SQLITE_MAX_BUSY_MS = 1000;

export function createDatabase(options: DatabaseOptions): Database {
  return options.databaseUrl
    ? createPostgres(options.databaseUrl, options.poolSize ?? 10, options.timeouts)
    : createSqlite(options.dbPath, options.timeouts);
}

/**
 * A read run at once: SQL text and its values in, rows out; undefined when it cannot run
 * now (the caller goes through Kysely's connection queue).
 */
export type ReadNow = (sql: string, values: readonly unknown[]) => unknown[] | undefined;

const readers = new WeakMap<Kysely<Schema>, ReadNow>();

/**
 * SQLite's synchronous read, for the hot reads (compiled.ts): run at once instead of
 * through Kysely's connection queue, which cost more than the reads themselves on every
 * WebSocket accept. Undefined on PostgreSQL.
 */
export const readNowOf = (db: Kysely<Schema>): ReadNow | undefined => readers.get(db);

/**
 * Where a read runs: on the main connection while it has no transaction open, else on
 * the read connection (a file database), which in WAL mode sees every committed write
 * and never what the open transaction has written. Not on the read connection always:
 * SQLite empties a connection's page cache whenever it finds the database written by
 * another connection since its last read, so with writes between them (an analytics row
 * per accept, a stored message per direct message) every read there started cold, from
 * the file and the WAL: 3× the time of the same read on the writing connection.
 */
function readNow(raw: BetterSqlite3.Database, main: Prepare, reader: Prepare | undefined): ReadNow {
  // A streamed query still iterating on the main connection blocks its writes, not its reads.
  return (text, values) => (raw.inTransaction ? reader?.(text).all(values) : main(text).all(values));
}

function createSqlite(file: string, timeouts: DatabaseTimeouts | undefined): Database {
  if (file !== ":memory:") mkdirSync(path.dirname(file), { recursive: true });
  const raw = new BetterSqlite3(file);
  const busyMs = timeouts ? Math.min(timeouts.lockMs, SQLITE_MAX_BUSY_MS) : 5000;
  // WAL lets readers run beside the writer; busy_timeout waits a little for a lock
  // another process holds instead of failing at once, but blocks this process while it
  // waits, so it stays short (then SQLITE_BUSY: 503); foreign keys are off by default.
  raw.pragma("journal_mode = WAL");
  raw.pragma(`busy_timeout = ${busyMs}`);
  raw.pragma("foreign_keys = ON");
  raw.pragma("synchronous = NORMAL");
  // An in-memory database is this connection's alone: no second one can read it.
  const reader = file === ":memory:" ? undefined : new BetterSqlite3(file, { readonly: true });
  reader?.pragma(`busy_timeout = ${busyMs}`);
  const statements = cachingStatements(raw, reader);
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: statements }) });
  readers.set(db, readNow(raw, statements.prepare, reader && cachingStatements(reader).prepare));
  return finish(db, "sqlite");
}

/** How many distinct SQL texts keep their prepared statement. */
const STATEMENT_CACHE_SIZE = 500;

type Prepare = (text: string) => Statement;

/**
 * Kysely prepares every query again; preparing costs more than running the small
 * queries we make (a WebSocket accept makes several). Statements are kept by SQL text,
 * least recently used dropped first, with their rows made in JavaScript (sqlite-rows.ts).
 * A statement still iterating (a streamed query) is busy and cannot be shared, so that
 * case gets a fresh one.
 */
function cachingStatements(raw: BetterSqlite3.Database, reader?: BetterSqlite3.Database) {
  const cache = new Map<string, Statement>();
  return {
    close: () => {
      reader?.close();
      raw.close();
    },
    prepare(text: string): Statement {
      const hit = cache.get(text);
      if (hit && !hit.busy) {
        cache.delete(text);
        cache.set(text, hit);
        return hit;
      }
      const stmt = shapedStatement(raw.prepare(text));
      if (hit) return stmt;
      cache.set(text, stmt);
      if (cache.size > STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      return stmt;
    },
  };
}

function createPostgres(url: string, max: number, timeouts: DatabaseTimeouts | undefined): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: timeouts?.acquireMs ?? 5000,
    // Sent as startup parameters: every connection of the pool has them from the start.
    ...(timeouts
      ? {
          statement_timeout: timeouts.statementMs,
          lock_timeout: timeouts.lockMs,
          // A transaction left open by a stuck request would hold its locks and its
          // connection: the server ends it.
          idle_in_transaction_session_timeout: Math.max(timeouts.statementMs, 10_000),
        }
      : {}),
  });
  // An idle client losing its server must not crash the process; the next query
  // reports the failure and the pool replaces the client.
  pool.on("error", () => {});
  // pg-pool listens for errors only on idle clients: a checked-out client (between the
  // queries of a transaction) whose server goes away would throw an unhandled 'error'
  // and end the process. The query in flight fails on its own (503); nothing to do here.
  pool.on("connect", (client) => {
    client.on("error", () => {});
  });
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  return finish(db, "postgres");
}

function finish(db: Kysely<Schema>, dialect: Dialect): Database {
  let closed = false;
  return {
    db,
    dialect,
    async ping(timeoutMs = 2000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("database ping timed out")), timeoutMs);
      });
      try {
        await Promise.race([sql`select 1`.execute(db), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}
