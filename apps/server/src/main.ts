import { type Config, ConfigError, loadConfig, mergeSettings, type RawSettings } from "./config.js";
import { setServerV8Flags } from "./runtime-flags.js";
import { startServer } from "./start.js";
import { createDatabase } from "./storage/create-database.js";
import { migrate } from "./storage/migrations/index.js";

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
