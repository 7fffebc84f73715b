import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { backends, type TestDatabase } from "../../../apps/server/test/helpers/backends.js";
import { removeTempDirs, startWarren, stopAll, tempDir } from "../../../apps/server/test/helpers/process.js";
import type { Client } from "../src/index.js";
import { deviceOf, friends, take } from "./direct-fixtures.js";

/**
 * The server never holds plaintext: messages carrying a marker go through
 * the SDK to a real `warren server` process, then the marker is looked for in every
 * byte the server keeps: the SQLite file with its -wal and -shm (everything under
 * DATA_DIR, while running and after a clean stop), a pg_dump of the PostgreSQL
 * database, and everything the process printed at LOG_LEVEL=trace. A control marker
 * that the server does keep in plaintext (community chat, a logged URL) must be found
 * in the same places, so the search itself is shown to work.
 */
const run = promisify(execFile);

afterAll(async () => {
  await stopAll();
  removeTempDirs();
});

/** Every file under `dir`, concatenated. */
function bytesUnder(dir: string): Buffer {
  const parts: Buffer[] = [];
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    const stat = statSync(file);
    if (stat.isDirectory()) parts.push(bytesUnder(file));
    else if (stat.isFile()) parts.push(readFileSync(file));
  }
  return Buffer.concat(parts);
}

const pgDump = async (url: string) =>
  (await run("pg_dump", ["--no-owner", "--dbname", url], { maxBuffer: 256 * 1024 * 1024 })).stdout;

for (const backend of backends()) {
  describe(`no plaintext on the server (${backend.name})`, () => {
    it("keeps no marker sent through the SDK in the database, its files or the logs", async () => {
      const marker = `PLAINMARK${randomBytes(8).toString("hex")}`;
      const control = `ctrl${randomBytes(6).toString("hex")}`;
      const database: TestDatabase | undefined =
        backend.name === "postgres" ? await backend.create() : undefined;
      const dataDir = tempDir("warren-plain-");
      try {
        const proc = await startWarren({
          env: {
            DATA_DIR: dataDir,
            LOG_LEVEL: "trace",
            ...(database?.databaseUrl ? { DATABASE_URL: database.databaseUrl } : {}),
          },
          // a loaded two-core machine may take a while to start a server process
          timeoutMs: 60_000,
        });
        const url = `http://127.0.0.1:${proc.port}`;
        const [alice, bob] = await friends(url, 2);
        const clients: Client[] = [];
        try {
          const a1 = alice.client;
          const a2 = await alice.another();
          const b1 = bob.client;
          clients.push(a1, a2, b1);
          await deviceOf(a1, "laptop");
          await deviceOf(a2, "phone");
          await deviceOf(b1, "desk");

          const texts = [
            `hello ${marker}`,
            `${marker} ünïcödé ✓ ${"x".repeat(2000)}`,
            `multi\nline\n${marker}\n`,
          ];
          for (const text of texts) await a1.direct.send(bob.user.id, text);
          // and over REST: a device with no live socket
          a1.direct.socket?.close();
          await a1.direct.send(bob.user.id, `rest ${marker}`);
          const received = await take(b1, 4);
          expect(received.map((m) => m.text)).toEqual([...texts, `rest ${marker}`]);
          await b1.direct.markRead(received.map((m) => m.id));
          await b1.direct.send(alice.user.id, `reply ${marker}`);
          expect((await take(a2, 5)).map((m) => m.text)).toContain(`reply ${marker}`);
          expect((await a2.direct.history(bob.user.id)).messages).toHaveLength(5);

          // What the server does keep in plaintext, for the control.
          const tenant = (await a1.tenants.list()).tenants[0];
          await a1.messages.send("tenant", tenant?.id as string, `chat ${control}`);
          await a1.request("GET", `/v1/users/check/${control}`);
        } finally {
          for (const c of clients) c.direct.close();
        }

        const check = (where: string, haystack: Buffer | string, controlled: boolean) => {
          const text = Buffer.isBuffer(haystack) ? haystack : Buffer.from(haystack);
          expect(text.includes(marker), `the marker is in ${where}`).toBe(false);
          if (controlled) expect(text.includes(control), `the control is in ${where}`).toBe(true);
        };
        const sqlite = backend.name === "sqlite";
        check("DATA_DIR while running", bytesUnder(dataDir), sqlite);
        if (database?.databaseUrl) check("pg_dump", await pgDump(database.databaseUrl), true);

        proc.child.kill("SIGTERM");
        await proc.waitForExit(30_000);
        check("the server's output", proc.output(), true);
        check("DATA_DIR after a clean stop", bytesUnder(dataDir), sqlite);
        if (sqlite) {
          const files = readdirSync(dataDir);
          expect(files.some((f) => f.endsWith(".db"))).toBe(true);
        }
      } finally {
        await database?.drop();
      }
    }, 180_000);
  });
}
