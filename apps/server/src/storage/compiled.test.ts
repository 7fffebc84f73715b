import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "../../test/helpers/backends.js";
import { compiled, compiledRows } from "./compiled.js";
import { createDatabase, type Database } from "./create-database.js";
import { migrate } from "./migrations/index.js";

for (const backend of backends()) {
  describe(`a query compiled once, on ${backend.name}`, () => {
    let database: Database;
    let drop: () => Promise<void>;
    beforeAll(async () => {
      const made = await backend.create();
      database = createDatabase({ databaseUrl: made.databaseUrl, dbPath: made.dbPath });
      drop = made.drop;
      await migrate(database.db);
      const at = new Date().toISOString();
      await database.db
        .insertInto("users")
        .values(
          ["ann", "bob", "cy"].map((name, i) => ({
            id: `u${i}`,
            username: name,
            username_key: name,
            email: null,
            email_key: null,
            display_name: null,
            password_hash: null,
            totp_secret: null,
            totp_enabled_at: null,
            totp_last_step: null,
            is_admin: i === 0 ? 1 : 0,
            created_at: at,
            updated_at: at,
          })) as never,
        )
        .execute();
    });
    afterAll(async () => {
      await database.close();
      await drop();
    });

    it("runs with each call's values, a value used twice and constants kept", async () => {
      const db = database.db;
      const byName = compiled(db, (a: string, b: string) =>
        db
          .selectFrom("users")
          .select(["id", sql<string>`'x'`.as("tag")])
          .where((eb) => eb.or([eb("username", "=", a), eb("username_key", "=", a), eb("username", "=", b)]))
          .where("is_admin", "=", 0)
          .orderBy("id"),
      );
      expect(await byName("bob", "cy")).toEqual([
        { id: "u1", tag: "x" },
        { id: "u2", tag: "x" },
      ]);
      // ann is the admin: the constant 0 still applies on later calls
      expect(await byName("ann", "bob")).toEqual([{ id: "u1", tag: "x" }]);
      expect(await byName("nobody", "nobody")).toEqual([]);
    });

    it("sees a write as soon as it is committed, and nothing a transaction still open has written", async () => {
      const db = database.db;
      const nameOf = compiled(db, (id: string) =>
        db.selectFrom("users").select("username").where("id", "=", id),
      );
      const rename = (to: string) => db.updateTable("users").set({ username: to }).where("id", "=", "u2");
      await rename("cyd").execute();
      expect(await nameOf("u2")).toEqual([{ username: "cyd" }]);
      let inside: unknown;
      await db.transaction().execute(async (tx) => {
        await tx.updateTable("users").set({ username: "cyan" }).where("id", "=", "u2").execute();
        inside = await nameOf("u2");
      });
      expect(inside).toEqual([{ username: "cyd" }]);
      expect(await nameOf("u2")).toEqual([{ username: "cyan" }]);
      await rename("cy").execute();
    });

    // Kysely streams from SQLite only (PostgreSQL would need pg-cursor).
    if (backend.name === "sqlite")
      it("reads while a streamed query holds the connection, and after it", async () => {
        const db = database.db;
        const nameOf = compiled(db, (id: string) =>
          db.selectFrom("users").select("username").where("id", "=", id),
        );
        const seen: unknown[] = [];
        for await (const row of db.selectFrom("users").select("id").orderBy("id").stream()) {
          // Awaited inside the loop: on SQLite, waiting for the connection here would never end.
          seen.push({ id: row.id, ...(await nameOf(row.id))[0] });
        }
        expect(seen).toEqual([
          { id: "u0", username: "ann" },
          { id: "u1", username: "bob" },
          { id: "u2", username: "cy" },
        ]);
        expect(await nameOf("u1")).toEqual([{ username: "bob" }]);
      });

    it("writes rows in chunks of a few sizes, every value in its place, all or none", async () => {
      const db = database.db;
      const mark = compiledRows(db, ["day", "user_id"], (rows: { day: string; user_id: string }[]) =>
        db
          .insertInto("analytics_active_users")
          .values(rows)
          .onConflict((oc) => oc.columns(["day", "user_id"]).doNothing()),
      );
      const rowsOf = (day: string, n: number) =>
        Array.from({ length: n }, (_, i) => ({ day, user_id: ["u0", "u1", "u2"][i % 3] as string }));
      const stored = async () =>
        (
          await db
            .selectFrom("analytics_active_users")
            .select(["day", "user_id"])
            .orderBy("day")
            .orderBy("user_id")
            .execute()
        ).map((r) => `${r.day} ${r.user_id}`);
      // 0, 1, 2 and 3 rows; the repeats are kept once by the conflict rule
      await mark([]);
      await mark(rowsOf("2026-01-01", 1));
      await mark(rowsOf("2026-01-02", 3));
      expect(await stored()).toEqual(["2026-01-01 u0", "2026-01-02 u0", "2026-01-02 u1", "2026-01-02 u2"]);
      // 345 rows: chunks of 256, 64, 16, 4, 4 and 1, each day and user where it belongs
      const many = Array.from({ length: 345 }, (_, i) => ({
        day: `2027-${String(1 + Math.floor(i / 28)).padStart(2, "0")}-${String(1 + (i % 28)).padStart(2, "0")}`,
        user_id: ["u0", "u1", "u2"][i % 3] as string,
      }));
      await mark(many);
      const after = await stored();
      expect(after).toHaveLength(4 + 345);
      for (const r of many) expect(after).toContain(`${r.day} ${r.user_id}`);
      // a row that breaks a constraint (no such user) in the last chunk: none of the batch is stored
      await expect(
        mark([...rowsOf("2028-01-01", 20), { day: "2028-01-02", user_id: "nobody" }]),
      ).rejects.toThrow();
      expect(await stored()).toEqual(after);
    });

    it("refuses a query that leaves a parameter out", async () => {
      const db = database.db;
      const broken = compiled(db, (_unused: string) => db.selectFrom("users").select("id"));
      await expect(broken("x")).rejects.toThrow(/every parameter/);
    });
  });
}
