import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "../../test/helpers/backends.js";
import { compiled } from "./compiled.js";
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
      const nameOf = compiled(db, (id: string) => db.selectFrom("users").select("username").where("id", "=", id));
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

    it("refuses a query that leaves a parameter out", async () => {
      const db = database.db;
      const broken = compiled(db, (_unused: string) => db.selectFrom("users").select("id"));
      await expect(broken("x")).rejects.toThrow(/every parameter/);
    });
  });
}
