import { mkdirSync } from "node:fs";
import path from "node:path";
import { type Config, ConfigError, loadConfig, mergeSettings, type RawSettings } from "./config.js";
import { loadDataKeys } from "./data-key.js";
import { setServerV8Flags } from "./runtime-flags.js";
import { createSealer, SealError, totpContext } from "./sealer.js";
import { BackupError, backupSqlite, inspectBackup, restoreSqlite } from "./storage/backup.js";
import { createDatabase } from "./storage/create-database.js";
import { MIGRATION_NAMES, migrate } from "./storage/migrations/index.js";

/**
 * The only place that reads the environment: `warren server` and `npm start` land here.
 * A bad setting prints one line naming it and exits 1.
 */
function configFrom(flags: RawSettings): Readonly<Config> {
  try {
    return loadConfig(mergeSettings(process.env, flags));
  } catch (err) {
    exitOnConfigError(err);
  }
}

function exitOnConfigError(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`warren: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

/** Start-up failures a user can fix (port taken, database unreachable) print one line too. */
function exitOnStartError(err: unknown): never {
  if (err instanceof ConfigError) exitOnConfigError(err);
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  let reason = e?.message ?? String(err);
  if (e?.code === "EADDRINUSE") reason = `the address ${e.address ?? ""}:${e.port ?? ""} is already in use`;
  else if (e?.code === "EACCES") reason = `no permission to listen on port ${e.port ?? ""}`;
  else if (e?.code === "ECONNREFUSED") reason = `the database refused the connection (${e.message})`;
  process.stderr.write(`warren: cannot start: ${reason}\n`);
  process.exit(1);
}

export async function runServer(flags: RawSettings = {}): Promise<void> {
  setServerV8Flags();
  const config = configFrom(flags);
  // The server's code loads only once the settings are known to be good: a bad one
  // fails in a fraction of a second instead of after loading everything.
  const { startServer } = await import("./start.js");
  // Settings checked only on use (TLS files) fail the same way.
  const server = await startServer(config).catch(exitOnStartError);
  let stopping = false;
  const stop = (signal: string) => {
    // A second signal means "now": skip the graceful part (docs/operations.md "Stopping").
    if (stopping) process.exit(1);
    stopping = true;
    server.app.fastify.log.info({ signal }, "shutting down");
    server.close().then(
      () => process.exit(0),
      (err) => {
        server.app.fastify.log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  // Announce only once the signal handlers are in place: whoever acts on this line may
  // send SIGTERM/SIGINT right away.
  process.stdout.write(`warren is listening on ${server.url}\n`);
}

/** `warren migrate`: applies pending migrations and exits. */
export async function runMigrate(flags: RawSettings = {}): Promise<void> {
  const config = configFrom(flags);
  const database = createDatabase({ databaseUrl: config.databaseUrl, dbPath: config.dbPath, poolSize: 1 });
  try {
    const applied = await migrate(database.db);
    process.stdout.write(
      applied.length
        ? `applied ${applied.length} migration(s): ${applied.join(", ")}\n`
        : "database is up to date\n",
    );
  } finally {
    await database.close();
  }
}

function exitOnBackupError(err: unknown): never {
  if (err instanceof BackupError) {
    process.stderr.write(`warren-server: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

/** The SQLite file the settings name; PostgreSQL has its own tools (operations.md, Backups). */
function sqlitePath(config: Readonly<Config>, verb: string): string {
  if (config.databaseUrl) {
    throw new BackupError(
      `DATABASE_URL is set: ${verb} a PostgreSQL database with pg_dump/pg_restore (docs/operations.md, Backups)`,
    );
  }
  return config.dbPath;
}

/** `warren-server backup <file>`: a consistent copy of the SQLite database, server running or not. */
export async function runBackup(file: string, flags: RawSettings = {}): Promise<void> {
  const config = configFrom(flags);
  try {
    const dbPath = sqlitePath(config, "back up");
    const { pages } = await backupSqlite(dbPath, path.resolve(file));
    process.stdout.write(`backed up ${dbPath} to ${path.resolve(file)} (${pages} pages)\n`);
  } catch (err) {
    exitOnBackupError(err);
  }
}

/**
 * `warren-server restore <file>`: checks the backup, puts it in place of the database
 * (the server must be stopped; an existing database is replaced only with --force), then
 * applies the migrations this server has and the backup has not.
 */
export async function runRestore(file: string, flags: RawSettings = {}, force = false): Promise<void> {
  const config = configFrom(flags);
  try {
    const dbPath = sqlitePath(config, "restore");
    const source = path.resolve(file);
    const { migrations } = inspectBackup(source, MIGRATION_NAMES);
    mkdirSync(path.dirname(dbPath), { recursive: true });
    await restoreSqlite(source, dbPath, { force });
    const database = createDatabase({ databaseUrl: undefined, dbPath, poolSize: 1 });
    try {
      const applied = await migrate(database.db);
      process.stdout.write(
        `restored ${source} into ${dbPath} (${migrations.length} migration(s) in the backup` +
          (applied.length ? `; applied ${applied.join(", ")})\n` : "; up to date)\n"),
      );
    } finally {
      await database.close();
    }
  } catch (err) {
    exitOnBackupError(err);
  }
}

/**
 * `warren-server rotate-keys`: seals every stored secret with the current
 * DATA_ENCRYPTION_KEY, opening each with whichever key (or none, for plaintext rows from
 * before sealing) it was stored under. Safe while servers run: a row is rewritten only
 * if it still holds the value that was read.
 */
export async function runRotateKeys(flags: RawSettings = {}): Promise<void> {
  const config = configFrom(flags);
  const keys = loadDataKeys({
    key: config.dataEncryptionKey,
    oldKeys: config.dataEncryptionOldKeys,
    dataDir: config.dataDir,
  });
  const sealer = createSealer(keys);
  const database = createDatabase({ databaseUrl: config.databaseUrl, dbPath: config.dbPath, poolSize: 1 });
  try {
    await migrate(database.db);
    const rows = await database.db
      .selectFrom("users")
      .select(["id", "totp_secret"])
      .where("totp_secret", "is not", null)
      .execute();
    let resealed = 0;
    for (const row of rows) {
      const stored = row.totp_secret as string;
      if (!sealer.needsReseal(stored)) continue;
      const plain = sealer.open(stored, totpContext(row.id));
      await database.db
        .updateTable("users")
        .set({ totp_secret: sealer.seal(plain, totpContext(row.id)) })
        .where("id", "=", row.id)
        .where("totp_secret", "=", stored)
        .execute();
      resealed++;
    }
    process.stdout.write(
      `re-sealed ${resealed} secret(s) with key ${sealer.currentKeyId}; ${rows.length - resealed} already were\n`,
    );
  } catch (err) {
    if (err instanceof SealError) {
      process.stderr.write(`warren-server: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  } finally {
    await database.close();
  }
}
