import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";

/**
 * The storage backends a suite runs on. SQLite always; PostgreSQL when
 * WARREN_TEST_POSTGRES names a server (CI sets it and requires it). Each call to
 * `create` gives a fresh, empty database that `drop` removes.
 */
export interface Backend {
  name: "sqlite" | "postgres";
  create(): Promise<TestDatabase>;
}

export interface TestDatabase {
  /** DATABASE_URL for PostgreSQL, undefined for SQLite */
  databaseUrl: string | undefined;
  /** DATA_DIR: a fresh temporary directory (holds the SQLite file and signing key) */
  dataDir: string;
  dbPath: string;
  drop(): Promise<void>;
}

export const POSTGRES_URL = process.env.WARREN_TEST_POSTGRES || undefined;

let warned = false;
function warnSkipped() {
  if (warned) return;
  warned = true;
  console.warn(
    "PostgreSQL runs skipped: set WARREN_TEST_POSTGRES=postgres://user@host:5432/db to include them",
  );
}

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), "warren-test-"));
}

const sqlite: Backend = {
  name: "sqlite",
  async create() {
    const dataDir = tempDir();
    return {
      databaseUrl: undefined,
      dataDir,
      dbPath: path.join(dataDir, "warren.db"),
      async drop() {
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  },
};

function postgres(adminUrl: string): Backend {
  return {
    name: "postgres",
    async create() {
      const name = `warren_t_${randomBytes(6).toString("hex")}`;
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      const dataDir = tempDir();
      return {
        databaseUrl: url.toString(),
        dataDir,
        dbPath: path.join(dataDir, "unused.db"),
        async drop() {
          rmSync(dataDir, { recursive: true, force: true });
          const c = new pg.Client({ connectionString: adminUrl });
          await c.connect();
          try {
            await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
          } finally {
            await c.end();
          }
        },
      };
    },
  };
}

/** SQLite, plus PostgreSQL when configured (with a printed reason when it is not). */
export function backends(): Backend[] {
  if (!POSTGRES_URL) {
    warnSkipped();
    return [sqlite];
  }
  return [sqlite, postgres(POSTGRES_URL)];
}

export const sqliteBackend = sqlite;
export const postgresBackend = POSTGRES_URL ? postgres(POSTGRES_URL) : undefined;
