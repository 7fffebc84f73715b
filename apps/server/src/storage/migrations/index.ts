import { type Kysely, type Migration, Migrator } from "kysely";
import * as accounts from "./0001-accounts.js";
import * as rooms from "./0002-rooms.js";
import * as communities from "./0003-communities.js";
import * as directMessages from "./0004-direct-messages.js";
import * as analytics from "./0005-analytics.js";
import * as sessionProof from "./0006-session-proof.js";
import * as peerPaths from "./0007-peer-paths.js";
import * as openSessions from "./0008-open-sessions.js";

/** Migrations live in code, in order; a name is never reused or edited once released. */
const MIGRATIONS: Record<string, Migration> = {
  "0001-accounts": accounts,
  "0002-rooms": rooms,
  "0003-communities": communities,
  "0004-direct-messages": directMessages,
  "0005-analytics": analytics,
  "0006-session-proof": sessionProof,
  "0007-peer-paths": peerPaths,
  "0008-open-sessions": openSessions,
};

/** The names of every migration this server knows, in order. */
export const MIGRATION_NAMES: readonly string[] = Object.keys(MIGRATIONS);

/**
 * Applies every pending migration; running it again changes nothing. Returns the names
 * applied. With `to`, moves to that migration instead, up or down (a test of one
 * migration's data).
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run on any schema
export async function migrate(db: Kysely<any>, to?: string): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => MIGRATIONS } });
  const { error, results } = await (to === undefined ? migrator.migrateToLatest() : migrator.migrateTo(to));
  if (error) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName;
    // No failed migration means the database could not be reached or locked: pass that on.
    if (!failed) throw error;
    throw new Error(`migration ${failed} failed: ${(error as Error).message}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}
