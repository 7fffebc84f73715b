import Database from "better-sqlite3";
import pg from "pg";
import type { TestDatabase } from "../../../server/test/helpers/backends.js";

/** Tables (and how many rows in each) whose row text contains `needle`, in any backend. */
export async function rowsContaining(db: TestDatabase, needle: string): Promise<Record<string, number>> {
  const found: Record<string, number> = {};
  if (db.databaseUrl) {
    const client = new pg.Client({ connectionString: db.databaseUrl });
    await client.connect();
    try {
      const tables = await client.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
      );
      for (const { table_name } of tables.rows) {
        const res = await client.query<{ n: string }>(
          `SELECT count(*) AS n FROM "${table_name}" t WHERE t::text LIKE $1`,
          [`%${needle}%`],
        );
        if (Number(res.rows[0]?.n) > 0) found[table_name] = Number(res.rows[0]?.n);
      }
    } finally {
      await client.end();
    }
    return found;
  }
  const sqlite = new Database(db.dbPath, { readonly: true });
  try {
    const tables = sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
      name: string;
    }[];
    for (const { name } of tables) {
      const rows = sqlite.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[];
      const n = rows.filter((row) =>
        Object.values(row).some((v) =>
          (Buffer.isBuffer(v) ? v.toString("latin1") : String(v)).includes(needle),
        ),
      ).length;
      if (n > 0) found[name] = n;
    }
  } finally {
    sqlite.close();
  }
  return found;
}
