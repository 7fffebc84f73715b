import { type Kysely, sql } from "kysely";
import type { Dialect } from "./create-database.js";

export interface SchemaShape {
  tables: Record<string, { columns: Record<string, { type: string; nullable: boolean }>; indexes: string[] }>;
}

/** Maps each dialect's spelling of a type onto the portable names migrations use. */
function portable(type: string): string {
  const t = type.toLowerCase();
  if (t === "int4" || t === "int8" || t === "integer" || t === "bigint") return "integer";
  if (t === "text" || t === "varchar") return "text";
  return t;
}

/**
 * The schema as a plain object (tables, columns with portable types and nullability,
 * index and unique-constraint names), so the two dialects can be compared.
 */
// biome-ignore lint/suspicious/noExplicitAny: introspection reads any schema
export async function describeSchema(db: Kysely<any>, dialect: Dialect): Promise<SchemaShape> {
  const shape: SchemaShape = { tables: {} };
  for (const table of await db.introspection.getTables()) {
    if (table.name.startsWith("kysely_")) continue;
    const columns: SchemaShape["tables"][string]["columns"] = {};
    for (const c of table.columns) columns[c.name] = { type: portable(c.dataType), nullable: c.isNullable };
    shape.tables[table.name] = { columns, indexes: await indexNames(db, dialect, table.name) };
  }
  return shape;
}

// biome-ignore lint/suspicious/noExplicitAny: introspection reads any schema
async function indexNames(db: Kysely<any>, dialect: Dialect, table: string): Promise<string[]> {
  if (dialect === "postgres") {
    // Primary keys are compared as columns, not as indexes (SQLite does not list them).
    const { rows } = await sql<{ name: string }>`
      select i.relname as name
      from pg_index x
      join pg_class i on i.oid = x.indexrelid
      join pg_class t on t.oid = x.indrelid
      join pg_namespace n on n.oid = t.relnamespace
      where n.nspname = current_schema() and t.relname = ${table} and not x.indisprimary`.execute(db);
    return rows.map((r) => r.name).sort();
  }
  const { rows } = await sql<{ name: string; origin: string }>`
    select name, origin from pragma_index_list(${table})`.execute(db);
  // SQLite names the indexes behind UNIQUE constraints itself; take the constraint
  // names from the table's SQL instead, so both dialects list the same names.
  const { rows: ddl } = await sql<{ sql: string }>`
    select sql from sqlite_master where type = 'table' and name = ${table}`.execute(db);
  const constraints = [...(ddl[0]?.sql ?? "").matchAll(/constraint "([^"]+)" unique/gi)].map(
    (m) => m[1] as string,
  );
  const created = rows.filter((r) => r.origin === "c").map((r) => r.name);
  return [...created, ...constraints].sort();
}
