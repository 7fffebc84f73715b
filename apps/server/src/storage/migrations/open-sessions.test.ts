import { describe, expect, it } from "vitest";
import { backends } from "../../../test/helpers/backends.js";
import { createDatabase } from "../create-database.js";
import { newUser } from "../repositories/fixtures.js";
import { migrate } from "./index.js";

for (const backend of backends()) {
  describe(`migration 0008 on ${backend.name}`, () => {
    it("moves the open sessions out of analytics_sessions, and back down", async () => {
      const made = await backend.create();
      const { db } = createDatabase({ databaseUrl: made.databaseUrl, dbPath: made.dbPath });
      try {
        await migrate(db, "0007-peer-paths");
        const u = newUser();
        await db.insertInto("users").values(u).execute();
        const row = (id: string, ended: string | null) => ({
          id,
          user_id: u.id,
          device: "desk",
          instance: "i1",
          started_at: "2001-01-01T10:00:00.000Z",
          ended_at: ended,
          duration_ms: ended ? 1000 : null,
          recovered: 0,
        });
        await db
          .insertInto("analytics_sessions")
          .values([row("open-1", null), row("closed-1", "2001-01-01T10:00:01.000Z")])
          .execute();

        await migrate(db);
        const ids = async (table: "analytics_sessions" | "analytics_open_sessions") =>
          (await db.selectFrom(table).select("id").orderBy("id").execute()).map((r) => r.id);
        expect(await ids("analytics_sessions")).toEqual(["closed-1"]);
        expect(await db.selectFrom("analytics_open_sessions").selectAll().execute()).toEqual([
          {
            id: "open-1",
            user_id: u.id,
            device: "desk",
            instance: "i1",
            started_at: "2001-01-01T10:00:00.000Z",
          },
        ]);

        await migrate(db, "0007-peer-paths");
        const back = await db.selectFrom("analytics_sessions").selectAll().orderBy("id").execute();
        expect(
          back.map((r) => ({ ...r, duration_ms: r.duration_ms === null ? null : Number(r.duration_ms) })),
        ).toEqual([row("closed-1", "2001-01-01T10:00:01.000Z"), row("open-1", null)]);
      } finally {
        await db.destroy();
        await made.drop();
      }
    });
  });
}
