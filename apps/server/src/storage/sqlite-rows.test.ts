import BetterSqlite3 from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rowMaker, shapedStatement } from "./sqlite-rows.js";

describe("rows made in JavaScript", () => {
  let db: BetterSqlite3.Database;
  beforeEach(() => {
    db = new BetterSqlite3(":memory:");
    db.exec(`
      create table t (id integer primary key, name text, data blob, score real, note text);
      insert into t values (1, 'a', x'0102', 1.5, null), (2, 'b', null, -3, 'x'), (3, 'c', x'', 0, '');
    `);
  });
  afterEach(() => db.close());

  const plain = (text: string, params: unknown[] = []) => db.prepare(text).all(params);
  const shaped = (text: string, params: unknown[] = []) => shapedStatement(db.prepare(text)).all(params);

  it("are the rows better-sqlite3 makes: names, order, values and types", () => {
    for (const text of [
      "select * from t order by id",
      "select id, name as label, data, score, note from t where id > ? order by id desc",
      "select count(*) as n, max(score) from t",
      "select 1 as x, 2 as x, 'z' as y",
      "select * from t where id = 99",
    ]) {
      const params = text.includes("?") ? [1] : [];
      const got = shaped(text, params) as Record<string, unknown>[];
      const want = plain(text, params) as Record<string, unknown>[];
      expect(got).toEqual(want);
      for (let i = 0; i < got.length; i++)
        expect(Object.keys(got[i] ?? {})).toEqual(Object.keys(want[i] ?? {}));
    }
    const [row] = shaped("select data from t where id = 1") as { data: unknown }[];
    expect(Buffer.isBuffer(row?.data)).toBe(true);
  });

  it("makes one function per list of column names", () => {
    expect(rowMaker(["a", "b"])).toBe(rowMaker(["a", "b"]));
    expect(rowMaker(["a", "b"])).not.toBe(rowMaker(["b", "a"]));
    expect(rowMaker(["a\u0000b"])).not.toBe(rowMaker(["a", "b"]));
  });

  it("leaves a statement with a column named __proto__ to better-sqlite3", () => {
    expect(rowMaker(["__proto__"])).toBeUndefined();
    const text = 'select 1 as "__proto__", 2 as "constructor"';
    const [row] = shaped(text) as Record<string, unknown>[];
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(row).toEqual(plain(text)[0]);
    expect(Object.hasOwn(row ?? {}, "constructor")).toBe(true);
  });

  it("streams objects, reports busy while streaming, and runs writes", () => {
    const stmt = shapedStatement(db.prepare("select id, name from t order by id"));
    const iter = stmt.iterate([]);
    expect(iter.next().value).toEqual({ id: 1, name: "a" });
    expect(stmt.busy).toBe(true);
    expect(() => stmt.all([])).toThrow(/busy/);
    expect([...iter]).toEqual([
      { id: 2, name: "b" },
      { id: 3, name: "c" },
    ]);
    expect(stmt.busy).toBe(false);
    expect(stmt.all([])).toHaveLength(3);
    const insert = shapedStatement(db.prepare("insert into t (name) values (?)"));
    expect(insert.reader).toBe(false);
    expect(insert.run(["d"])).toMatchObject({ changes: 1, lastInsertRowid: 4 });
    const returning = shapedStatement(db.prepare("insert into t (name) values (?) returning id, name"));
    expect(returning.all(["e"])).toEqual([{ id: 5, name: "e" }]);
  });
});
