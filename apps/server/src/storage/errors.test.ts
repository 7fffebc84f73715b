import { describe, expect, it } from "vitest";
import { isUnavailable } from "./errors.js";

describe("which storage failures answer 503", () => {
  it.each([
    ["a SQLite lock held past the busy timeout", { code: "SQLITE_BUSY" }],
    ["a full SQLite disk", { code: "SQLITE_FULL" }],
    ["a read-only SQLite file", { code: "SQLITE_READONLY" }],
    ["a SQLite file moved away", { code: "SQLITE_READONLY_DBMOVED" }],
    ["a SQLite I/O failure", { code: "SQLITE_IOERR_WRITE" }],
    ["a PostgreSQL statement timeout", { code: "57014" }],
    ["a PostgreSQL lock timeout", { code: "55P03" }],
    ["a PostgreSQL idle transaction ended", { code: "25P03" }],
    ["a full PostgreSQL disk", { code: "53100" }],
    ["a read-only PostgreSQL transaction", { code: "25006" }],
    ["a pool with no free connection in time", new Error("timeout exceeded when trying to connect")],
    ["a PostgreSQL server that went away mid-query", new Error("Connection terminated unexpectedly")],
    [
      "a pooled connection broken by a restart",
      new Error("Client has encountered a connection error and is not queryable"),
    ],
    ["a connection attempt past its timeout", new Error("timeout expired")],
    ["a query past the client's read timeout", new Error("Query read timeout")],
  ])("%s", (_what, err) => {
    expect(isUnavailable(err)).toBe(true);
  });

  it.each([
    ["a unique violation", { code: "23505" }],
    ["a SQLite constraint", { code: "SQLITE_CONSTRAINT_UNIQUE" }],
    ["a programming error", new TypeError("x is not a function")],
  ])("not %s", (_what, err) => {
    expect(isUnavailable(err)).toBe(false);
  });
});
