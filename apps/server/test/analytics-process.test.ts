import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { dayOf } from "../src/days.js";
import { logLines, removeTempDirs, startWarren, stopAll, tempDir } from "./helpers/process.js";

/**
 * Analytics across a real `warren server` process's life: the log names the
 * first account as a server admin; a killed server's open sessions are closed at the
 * next start, ended at its last heartbeat and flagged; a graceful stop writes the last
 * frame counts and closes every session. SQLite, read from the file itself.
 */

afterAll(async () => {
  await stopAll();
  removeTempDirs();
});

const PASSWORD = "correct horse battery";

async function call(base: string, method: string, route: string, body?: unknown, token?: string) {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${base}${route}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: (await res.json()) as any };
}

const base = (port: number) => `http://127.0.0.1:${port}`;

/** Opens a hub socket, waits for the welcome, sends `pings` pings and waits for their pongs. */
async function hubSocket(
  port: number,
  token: string,
  pings: number,
): Promise<{ ws: WebSocket; session: string }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/ws?device=desk`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const frames: any[] = [];
  let wake = () => {};
  ws.on("message", (d) => {
    frames.push(JSON.parse(d.toString()));
    wake();
  });
  const until = async (pred: () => boolean) => {
    const end = Date.now() + 10_000;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`no such frame: ${JSON.stringify(frames)}`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 100);
      });
    }
  };
  await until(() => frames.some((f) => f.type === "welcome"));
  for (let i = 0; i < pings; i++) ws.send(JSON.stringify({ type: "ping" }));
  await until(() => frames.filter((f) => f.type === "pong").length >= pings);
  return { ws, session: frames.find((f) => f.type === "welcome").session };
}

async function waitUntil(check: () => Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function readDb<T>(cwd: string, fn: (db: BetterSqlite3.Database) => T): T {
  const db = new BetterSqlite3(path.join(cwd, "data", "warren.db"), { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

describe("analytics across server restarts (sqlite)", () => {
  it("logs the first admin, closes a killed server's sessions at the next start, flushes at a graceful stop", async () => {
    const cwd = tempDir();
    const env = { LOG_LEVEL: "info", ANALYTICS_FLUSH_INTERVAL: "300ms" };
    const first = await startWarren({ cwd, env });
    const url = base(first.port);

    const adminName = `boss_${process.pid}`;
    const admin = await call(url, "POST", "/v1/auth/register", { username: adminName, password: PASSWORD });
    expect(admin.status).toBe(201);
    await first.waitFor(new RegExp(`first account ${adminName} is a server admin`));
    const other = await call(url, "POST", "/v1/auth/register", {
      username: `plain_${process.pid}`,
      password: PASSWORD,
    });
    expect(other.status).toBe(201);
    const token = admin.body.tokens.access_token as string;
    const summary = async (port: number) =>
      (await call(base(port), "GET", "/v1/analytics/summary", undefined, token)).body;
    const adminLines = logLines(first.output()).filter((l) => /is a server admin/.test(String(l.msg)));
    expect(adminLines.map((l) => l.msg)).toEqual([`first account ${adminName} is a server admin`]);
    // The line names the account, never where it came from.
    expect(JSON.stringify(adminLines)).not.toContain("127.0.0.1");

    // A socket is open, its session written, heartbeats go on; then the process dies.
    const { session } = await hubSocket(first.port, token, 1);
    await waitUntil(async () => (await summary(first.port)).sessions.open === 1, "session written");
    await new Promise((r) => setTimeout(r, 1000));
    await first.kill();
    const lastBeat = readDb(cwd, (db) =>
      db.prepare("select last_seen_at from analytics_instances").pluck().get(),
    ) as string;
    expect(typeof lastBeat).toBe("string");

    const second = await startWarren({ cwd, env: { LOG_LEVEL: "info", ANALYTICS_FLUSH_INTERVAL: "1h" } });
    await second.waitFor(/closed hub sessions left open by a server that stopped/);
    const row = readDb(cwd, (db) =>
      db.prepare("select * from analytics_sessions where id = ?").get(session),
    ) as any;
    expect(row.recovered).toBe(1);
    expect(row.ended_at).toBe(lastBeat > row.started_at ? lastBeat : row.started_at);
    expect(row.ended_at > row.started_at).toBe(true);
    expect(row.duration_ms).toBe(Date.parse(row.ended_at) - Date.parse(row.started_at));
    expect((await summary(second.port)).sessions.open).toBe(0);

    // A graceful stop: the last counts reach the file and every session is closed.
    const today = dayOf(Date.now());
    const pings = () =>
      readDb(
        cwd,
        (db) =>
          db
            .prepare("select count from analytics_message_counts where day = ? and type = 'ping'")
            .pluck()
            .get(today) ?? 0,
      ) as number;
    const before = pings();
    const live = await hubSocket(second.port, token, 3);
    second.child.kill("SIGTERM");
    expect((await second.waitForExit(15_000)).code).toBe(0);
    live.ws.terminate();
    expect(pings()).toBe(before + 3);
    const open = readDb(cwd, (db) =>
      db.prepare("select count(*) from analytics_sessions where ended_at is null").pluck().get(),
    );
    expect(open).toBe(0);
    const closed = readDb(cwd, (db) =>
      db.prepare("select * from analytics_sessions where id = ?").get(live.session),
    ) as any;
    expect(closed.recovered).toBe(0);
    expect(closed.device).toBe("desk");
    expect(readDb(cwd, (db) => db.prepare("select count(*) from analytics_instances").pluck().get())).toBe(0);
  }, 90_000);
});
