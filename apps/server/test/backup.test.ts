import { copyFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { removeTempDirs, runWarren, startWarren, stopAll, tempDir } from "./helpers/process.js";
import { apiFor, PASSWORD } from "./helpers/server.js";

/**
 * `warren-server backup` copies the SQLite database while a real server process takes
 * writes; `warren-server restore` puts the copy in place for another server. Every write
 * acknowledged before the backup started must come back (acknowledged means committed).
 */

const JWT_SECRET = "backup-test-secret-backup-test-secret-0123";

afterEach(async () => {
  await stopAll();
});
afterAll(() => {
  removeTempDirs();
});

describe("warren-server backup and restore (SQLite)", { timeout: 240_000 }, () => {
  it("backs up under write load and restores with nothing acknowledged missing", async () => {
    const dir = tempDir();
    const env = { DATA_DIR: path.join(dir, "data"), JWT_SECRET, LOG_LEVEL: "warn", HOST: "127.0.0.1" };
    const server = await startWarren({ cwd: dir, env });
    const api = apiFor(server.url.replace("localhost", "127.0.0.1"));

    const reg = await api("POST", "/v1/auth/register", { body: { username: "backer", password: PASSWORD } });
    expect(reg.status).toBe(201);
    const token = reg.body.tokens.access_token as string;
    const club = await api("POST", "/v1/tenants", { token, body: { name: "backup club" } });
    expect(club.status).toBe(201);
    const tenant = club.body.id as string;

    // Four writers post until told to stop; each acknowledged message is recorded.
    const acked: string[] = [];
    let stop = false;
    let sent = 0;
    const writer = async () => {
      while (!stop) {
        const n = sent++;
        const r = await api("POST", `/v1/tenants/${tenant}/messages`, { token, body: { content: `m${n}` } });
        if (r.status === 201) acked.push(r.body.id as string);
        else if (r.status !== 503) throw new Error(`post answered ${r.status}: ${JSON.stringify(r.body)}`);
      }
    };
    const writers = Promise.all([writer(), writer(), writer(), writer()]);
    while (acked.length < 200) await new Promise((r) => setTimeout(r, 20));

    const before = [...acked];
    const file = path.join(dir, "warren-backup.db");
    const backup = await runWarren("backup", [file], { cwd: dir, env, timeoutMs: 60_000 });
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toMatch(/^backed up .* to .*warren-backup\.db \(\d+ pages\)$/m);
    const during = acked.length - before.length;
    stop = true;
    await writers;
    expect(during, "the server kept acknowledging writes during the backup").toBeGreaterThan(0);

    // Restoring over a database a server has open is refused.
    const busy = await runWarren("restore", [file, "--force"], { cwd: dir, env });
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/in use.*stop the server/);
    await server.kill();

    // Another machine: an empty data directory.
    const other = tempDir();
    const otherEnv = { ...env, DATA_DIR: path.join(other, "data") };
    const restored = await runWarren("restore", [file], { cwd: other, env: otherEnv });
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toMatch(
      /^restored .* into .*warren\.db \(\d+ migration\(s\) in the backup; up to date\)$/m,
    );

    const again = await startWarren({ cwd: other, env: otherEnv });
    const api2 = apiFor(again.url.replace("localhost", "127.0.0.1"));
    const found = new Set<string>();
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&before=${cursor}` : "";
      const page = await api2("GET", `/v1/tenants/${tenant}/messages?limit=100${query}`, { token });
      expect(page.status).toBe(200);
      for (const m of page.body.messages as { id: string }[]) found.add(m.id);
      cursor = page.body.next_cursor as string | null;
    } while (cursor);
    expect(before.filter((id) => !found.has(id))).toEqual([]);
    // Nothing in the copy that was not written: at most what was sent.
    expect(found.size).toBeLessThanOrEqual(sent);
    expect(found.size).toBeGreaterThanOrEqual(before.length);
  });

  it("refuses an existing database without --force, a newer server's backup, and a file that is not one", async () => {
    const dir = tempDir();
    const env = { DATA_DIR: path.join(dir, "data"), JWT_SECRET, LOG_LEVEL: "warn" };
    expect((await runWarren("migrate", [], { cwd: dir, env })).code).toBe(0);
    const file = path.join(dir, "b.db");
    expect((await runWarren("backup", [file], { cwd: dir, env })).code).toBe(0);

    const exists = await runWarren("restore", [file], { cwd: dir, env });
    expect(exists.code).toBe(1);
    expect(exists.stderr).toMatch(/exists: pass --force/);

    const newer = path.join(dir, "newer.db");
    copyFileSync(file, newer);
    const db = new BetterSqlite3(newer);
    db.prepare("INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)").run(
      "9999-from-the-future",
      new Date().toISOString(),
    );
    db.close();
    const refused = await runWarren("restore", [newer, "--force"], { cwd: dir, env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/newer warren-server .*9999-from-the-future/);

    const junk = path.join(dir, "notes.txt");
    writeFileSync(junk, "not a database, but long enough to fill an SQLite header\n".repeat(20));
    const notOne = await runWarren("restore", [junk, "--force"], { cwd: dir, env });
    expect(notOne.code).toBe(1);
    expect(notOne.stderr).toMatch(/not (an SQLite|a warren) database|cannot be read/);

    const forced = await runWarren("restore", [file, "--force"], { cwd: dir, env });
    expect(forced.code, forced.stderr).toBe(0);
  });

  it("points PostgreSQL users at pg_dump", async () => {
    const dir = tempDir();
    const r = await runWarren("backup", [path.join(dir, "x.db")], {
      cwd: dir,
      env: { DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/pg_dump/);
  });
});
