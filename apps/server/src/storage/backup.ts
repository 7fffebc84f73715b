import { existsSync, renameSync, rmSync } from "node:fs";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";

/**
 * Online backup and restore of the SQLite database, with SQLite's backup API
 * (https://sqlite.org/backup.html) through better-sqlite3.
 *
 * Backup runs beside a live server: it opens its own read connection (WAL mode lets
 * the server keep writing) and copies every page in one step, so the copy is the
 * database as of one committed transaction: everything acknowledged before the backup
 * started is in it. The copy is written next to the target and renamed into place, so
 * an interrupted backup never leaves a half file under the name asked for.
 *
 * Restore takes a backup made by this or an older server: it checks the file's
 * integrity and that every migration it records is one this server knows (a newer
 * server's backup is refused), then swaps it in while no server has the database open.
 * The caller applies pending migrations afterwards.
 */

const MIGRATION_TABLE = "kysely_migration";

export class BackupError extends Error {}

/** Copies the live database at `dbPath` to `file`; returns the number of pages copied. */
export async function backupSqlite(dbPath: string, file: string): Promise<{ pages: number }> {
  if (!existsSync(dbPath)) throw new BackupError(`no database at ${dbPath}`);
  const partial = `${file}.partial`;
  rmSync(partial, { force: true });
  const source = new BetterSqlite3(dbPath, { readonly: true, fileMustExist: true });
  try {
    source.pragma("busy_timeout = 10000");
    // A step copies the pages it is asked for under one read transaction; asking for all
    // of them at once makes the copy one consistent snapshot (smaller steps would restart
    // whenever the server writes in between).
    const result = await source.backup(partial, { progress: () => 0x7fffffff });
    renameSync(partial, file);
    return { pages: result.totalPages };
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  } finally {
    source.close();
  }
}

/** What a backup file holds: its migrations, checked against the ones this server knows. */
export function inspectBackup(file: string, known: readonly string[]): { migrations: string[] } {
  if (!existsSync(file)) throw new BackupError(`no backup at ${file}`);
  let db: BetterSqlite3.Database;
  try {
    db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new BackupError(`${file} is not an SQLite database: ${(err as Error).message}`);
  }
  try {
    const check = db.pragma("integrity_check", { simple: true });
    if (check !== "ok") throw new BackupError(`${file} fails SQLite's integrity check: ${String(check)}`);
    const hasTable = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")
      .get(MIGRATION_TABLE);
    if (!hasTable) throw new BackupError(`${file} is not a warren database (no ${MIGRATION_TABLE} table)`);
    const migrations = (
      db.prepare(`SELECT name FROM ${MIGRATION_TABLE} ORDER BY name`).all() as { name: string }[]
    ).map((r) => r.name);
    const unknown = migrations.filter((m) => !known.includes(m));
    if (unknown.length) {
      throw new BackupError(
        `${file} was made by a newer warren-server (migrations ${unknown.join(", ")} are unknown here): upgrade before restoring`,
      );
    }
    return { migrations };
  } catch (err) {
    if (err instanceof BackupError) throw err;
    throw new BackupError(`${file} cannot be read: ${(err as Error).message}`);
  } finally {
    db.close();
  }
}

/**
 * Fails when another process has the database at `dbPath` open: restoring under a
 * running server would lose its writes and confuse its connection. A WAL database's
 * readers and writers all hold a lock SQLite's exclusive locking mode cannot take.
 */
function assertNotInUse(dbPath: string): void {
  if (!existsSync(dbPath)) return;
  const db = new BetterSqlite3(dbPath, { fileMustExist: true });
  try {
    db.pragma("busy_timeout = 0");
    db.pragma("locking_mode = EXCLUSIVE");
    db.exec("BEGIN EXCLUSIVE; COMMIT;");
  } catch (err) {
    throw new BackupError(
      `the database ${dbPath} is in use (${(err as Error).message}): stop the server before restoring`,
    );
  } finally {
    db.close();
  }
}

/** Puts the backup `file` in place of the database at `dbPath` (after inspectBackup). */
export async function restoreSqlite(
  file: string,
  dbPath: string,
  options: { force: boolean },
): Promise<void> {
  if (existsSync(dbPath) && !options.force) {
    throw new BackupError(`${dbPath} exists: pass --force to replace it with the backup`);
  }
  assertNotInUse(dbPath);
  const incoming = path.join(path.dirname(dbPath), `.${path.basename(dbPath)}.restoring`);
  rmSync(incoming, { force: true });
  const source = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    await source.backup(incoming, { progress: () => 0x7fffffff });
  } catch (err) {
    rmSync(incoming, { force: true });
    throw err;
  } finally {
    source.close();
  }
  // The old database's WAL belongs to it, not to the restored file.
  for (const suffix of ["-wal", "-shm"]) rmSync(`${dbPath}${suffix}`, { force: true });
  renameSync(incoming, dbPath);
}
