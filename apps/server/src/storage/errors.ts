/**
 * Which unique constraint a failed insert hit, on either dialect, or undefined when
 * the error is something else. SQLite names the columns ("UNIQUE constraint failed:
 * users.username_key"); PostgreSQL names the constraint (code 23505).
 */
export function uniqueViolation(err: unknown): string | undefined {
  const e = err as { code?: string; constraint?: string; message?: string };
  if (e?.code === "23505") return e.constraint ?? "";
  if (typeof e?.code === "string" && e.code.startsWith("SQLITE_CONSTRAINT_UNIQUE")) {
    return /UNIQUE constraint failed: (.*)$/.exec(e.message ?? "")?.[1] ?? "";
  }
  if (e?.code === "SQLITE_CONSTRAINT_PRIMARYKEY") return "primary key";
  return undefined;
}

/**
 * PostgreSQL error codes that mean "not now" rather than "wrong request": the server
 * went away or is starting, too many connections, a statement or lock wait hit its
 * bound, disk full, out of memory, a read-only server (Appendix A of the PostgreSQL docs).
 */
const PG_UNAVAILABLE = new Set([
  "57014",
  "55P03",
  "25P03",
  "53100",
  "53200",
  "25006",
  "57P01",
  "57P02",
  "57P03",
  "08000",
  "08003",
  "08006",
  "08001",
  "08004",
  "53300",
]);
const NET_ERRORS = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH"]);

/** True when the database (or Redis) could not be reached or went away: answer 503, not 500. */
export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (typeof e?.code === "string" && (PG_UNAVAILABLE.has(e.code) || NET_ERRORS.has(e.code))) return true;
  // Locked by another process past the busy timeout, disk full, a read-only file or
  // directory, an I/O failure: the request may work later, and nothing was written.
  if (typeof e?.code === "string" && /^SQLITE_(BUSY|LOCKED|FULL|READONLY|IOERR|CANTOPEN)/.test(e.code)) {
    return true;
  }
  const msg = e?.message ?? "";
  // node-postgres: the server went away (a restart), a client broken by that used again,
  // a connection or read past its timeout.
  if (
    /Connection terminated|not queryable|timeout exceeded when trying to connect|database ping timed out/i.test(
      msg,
    ) ||
    /^(timeout expired|Query read timeout)$/.test(msg)
  ) {
    return true;
  }
  // Redis: the bus, or ioredis refusing a command while disconnected.
  const name = (err as { name?: string } | null)?.name;
  if (name === "BusUnavailableError" || name === "MaxRetriesPerRequestError") return true;
  return /enableOfflineQueue options is false|Connection is closed/.test(msg);
}
