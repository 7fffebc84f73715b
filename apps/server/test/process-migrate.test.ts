import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  json,
  loopback,
  removeTempDirs,
  runWarren,
  signal,
  startWarren,
  stderrLines,
  stopAll,
  tempDir,
  username,
} from "./helpers/process.js";

/**
 * Process-level tests, continued (process.test.ts): `warren migrate` on SQLite and
 * PostgreSQL, and the server on PostgreSQL.
 */

afterAll(async () => {
  await stopAll();
  removeTempDirs();
});

describe("warren migrate", () => {
  afterEach(stopAll);

  it("applies migrations to a fresh SQLite file, then finds it up to date", async () => {
    const dbPath = path.join(tempDir(), "nested", "dir", "fresh.db");
    const first = await runWarren("migrate", [], { env: { DB_PATH: dbPath } });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^applied \d+ migration\(s\): \S+/m);
    expect(first.stderr).toBe("");
    expect(existsSync(dbPath)).toBe(true);

    const second = await runWarren("migrate", ["--db-path", dbPath]);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe("database is up to date\n");
    expect(second.stderr).toBe("");
  });

  it("stops on a bad setting with one line", async () => {
    const result = await runWarren("migrate", [], { env: { DATABASE_URL: "mysql://x" } });
    expect(result.code).toBe(1);
    expect(stderrLines(result.stderr)).toEqual([expect.stringMatching(/^warren: DATABASE_URL must be /)]);
  });
});

const POSTGRES_URL = process.env.WARREN_TEST_POSTGRES || undefined;

if (!POSTGRES_URL) {
  console.warn(
    "process tests on PostgreSQL not run: set WARREN_TEST_POSTGRES=postgres://user@host:5432/db to include them",
  );
} else {
  const adminUrl = POSTGRES_URL;
  describe("PostgreSQL", () => {
    const created: string[] = [];
    async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
      await client.connect();
      try {
        return await fn(client);
      } finally {
        await client.end();
      }
    }
    async function freshDatabase(): Promise<string> {
      const name = `warren_t_${randomBytes(6).toString("hex")}`;
      await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`));
      created.push(name);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return url.toString();
    }

    afterEach(stopAll);
    afterAll(async () => {
      await stopAll();
      for (const name of created)
        await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    });

    it("warren migrate applies migrations once, then finds the database up to date", async () => {
      const databaseUrl = await freshDatabase();
      const cwd = tempDir();
      const first = await runWarren("migrate", [], { cwd, env: { DATABASE_URL: databaseUrl } });
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/^applied \d+ migration\(s\): \S+/m);
      const second = await runWarren("migrate", ["--database-url", databaseUrl], { cwd });
      expect(second.code).toBe(0);
      expect(second.stdout).toBe("database is up to date\n");
      // PostgreSQL only: no SQLite file appears.
      expect(existsSync(path.join(cwd, "data", "warren.db"))).toBe(false);
      const tables = await withClient(databaseUrl, (db) =>
        db.query("select table_name from information_schema.tables where table_schema = 'public'"),
      );
      const names = tables.rows.map((row: { table_name: string }) => row.table_name);
      expect(names).toEqual(expect.arrayContaining(["users", "sessions", "audit_events"]));
    });

    it("the server runs on DATABASE_URL, is ready, and serves sign-up", async () => {
      const databaseUrl = await freshDatabase();
      const server = await startWarren({ env: { DATABASE_URL: databaseUrl } });
      expect((await fetch(`${loopback(server)}/ready`)).status).toBe(200);
      const reg = await json(loopback(server), "POST", "/v1/auth/register", {
        body: { username: username(), password: "postgres password" },
      });
      expect(reg.status).toBe(201);
      expect(await signal(server, "SIGTERM")).toEqual({ code: 0, signal: null });
    });
  });
}
