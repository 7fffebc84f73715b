import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { postgresBackend, sqliteBackend } from "./helpers/backends.js";
import { clientPool, type HubUser, hubUser, wsUrl } from "./helpers/hub-client.js";
import { startTestServer, type TestServer, uniqueName } from "./helpers/server.js";

/** Every answer in these suites must come well before this: the bounds are ~0.5 s. */
const QUICK_MS = 4000;

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work;
  return { value, ms: performance.now() - started };
}

function expectUnavailable(res: { status: number; body: any; headers: Headers }, what: string) {
  expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(503);
  expect(res.body.error.code, what).toBe("service_unavailable");
  expect(Number(res.headers.get("retry-after")), what).toBeGreaterThan(0);
}

/** What a socket upgrade answers: the HTTP status of a refusal, or 101. */
function upgradeStatus(url: string, token: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(wsUrl(url), { headers: { authorization: `Bearer ${token}` } });
    ws.on("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.on("open", () => {
      resolve(101);
      ws.close();
    });
    ws.on("error", () => {});
  });
}

describe.runIf(postgresBackend)("a lock held elsewhere on PostgreSQL", () => {
  let t: TestServer;
  let holder: pg.Client;
  let owner: HubUser;
  let tenant: string;
  const pool = clientPool();
  beforeAll(async () => {
    t = await startTestServer(postgresBackend as NonNullable<typeof postgresBackend>, {
      DB_LOCK_TIMEOUT: "500ms",
      DB_STATEMENT_TIMEOUT: "2s",
      DB_ACQUIRE_TIMEOUT: "1s",
      DATABASE_POOL_SIZE: "4",
    });
    holder = new pg.Client({ connectionString: t.database.databaseUrl });
    await holder.connect();
    owner = await hubUser(t.api);
    const c = await t.api("POST", "/v1/tenants", { token: owner.token, body: { name: uniqueName("c") } });
    tenant = c.body.id;
  });
  afterEach(async () => {
    await holder.query("ROLLBACK").catch(() => {});
    await pool.closeAll();
  });
  afterAll(async () => {
    await holder?.end();
    await t?.close();
  });

  /** Holds an exclusive lock on `table` in an open transaction of another connection. */
  const lock = async (table: string) => {
    await holder.query("BEGIN");
    await holder.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  };

  const cases: [string, string, () => Promise<{ status: number; body: any; headers: Headers }>][] = [
    [
      "chat",
      "chat_messages",
      () => t.api("POST", `/v1/tenants/${tenant}/messages`, { token: owner.token, body: { content: "hi" } }),
    ],
    [
      "communities",
      "tenants",
      () => t.api("POST", "/v1/tenants", { token: owner.token, body: { name: uniqueName("c") } }),
    ],
    [
      "networks",
      "networks",
      () =>
        t.api("POST", `/v1/tenants/${tenant}/networks`, {
          token: owner.token,
          body: { name: uniqueName("n"), cidr: "10.91.0.0/24" },
        }),
    ],
    [
      "devices",
      "devices",
      () =>
        t.api("POST", "/v1/devices", {
          token: owner.token,
          body: { name: "laptop", platform: "linux", public_key: Buffer.alloc(32, 7).toString("base64") },
        }),
    ],
    ["direct messages (blocks)", "user_blocks", () => t.api("GET", "/v1/me/blocks", { token: owner.token })],
    [
      "accounts (every authenticated route)",
      "sessions",
      () => t.api("GET", "/v1/auth/me", { token: owner.token }),
    ],
    [
      "sign-in",
      "users",
      () =>
        t.api("POST", "/v1/auth/login", {
          body: { username: owner.username, password: "correct horse battery" },
        }),
    ],
  ];

  it.each(cases)(
    "%s: a request waiting on the lock answers 503 with Retry-After quickly; others keep answering",
    async (what, table, call) => {
      await lock(table);
      const stuck = call();
      // Meanwhile an unrelated route answers at once (health needs no table).
      const health = await timed(t.api("GET", "/health"));
      expect(health.value.status).toBe(200);
      const { value, ms } = await timed(stuck);
      expectUnavailable(value, what);
      expect(ms).toBeLessThan(QUICK_MS);
      await holder.query("ROLLBACK");
      // Once the lock is gone, the same request works.
      expect((await call()).status).toBeLessThan(300);
    },
  );

  it("a WebSocket upgrade and a hub frame waiting on a lock answer service_unavailable quickly", async () => {
    const socket = await pool.connect(t.url, owner);
    await lock("sessions");
    const upgrade = await timed(upgradeStatus(t.url, owner.token));
    expect(upgrade.value).toBe(503);
    expect(upgrade.ms).toBeLessThan(QUICK_MS);
    await holder.query("ROLLBACK");
    await lock("rooms");
    const created = await timed(
      socket.request({ type: "room.create", name: "kept", persistent: true }, QUICK_MS),
    );
    expect(created.value).toMatchObject({ type: "error", code: "service_unavailable" });
    expect(created.value.retry_after_ms).toBeGreaterThan(0);
    expect(created.ms).toBeLessThan(QUICK_MS);
    await holder.query("ROLLBACK");
    expect((await socket.request({ type: "room.create", name: "kept", persistent: true })).type).toBe(
      "result",
    );
  });

  it("a database turned read-only answers 503 on writes while reads go on, and writes again once it is writable", async () => {
    const name = new URL(t.database.databaseUrl as string).pathname.slice(1);
    const admin = new pg.Client({ connectionString: t.database.databaseUrl });
    await admin.connect();
    const post = () =>
      t.api("POST", `/v1/tenants/${tenant}/messages`, { token: owner.token, body: { content: "ro" } });
    try {
      // New sessions start read-only; end the pool's current ones so it opens new ones.
      await admin.query(`ALTER DATABASE ${name} SET default_transaction_read_only = on`);
      await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND pid <> $2",
        [name, (holder as unknown as { processID: number }).processID],
      );
      let res = await post();
      // The first request may meet a terminated connection (503 too); the next a read-only one.
      if (res.status === 503) res = await post();
      expectUnavailable(res, "read-only database");
      expect((await t.api("GET", "/v1/auth/me", { token: owner.token })).status).toBe(200);
    } finally {
      await admin.query(`ALTER DATABASE ${name} SET default_transaction_read_only = off`);
      await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND pid <> $2",
        [name, (holder as unknown as { processID: number }).processID],
      );
      await admin.end();
    }
    let ok = await post();
    if (ok.status === 503) ok = await post();
    expect(ok.status).toBe(201);
  });

  it("upgrades still being checked are capped per address: one over MAX_PENDING_UPGRADES_PER_ADDRESS answers 429 at once", async () => {
    await lock("sessions");
    // 20 (the default cap) wait on the lock; 5 more find the cap reached.
    const statuses = await Promise.all(
      Array.from({ length: 25 }, () => timed(upgradeStatus(t.url, owner.token))),
    );
    const refused = statuses.filter((s) => s.value === 429);
    expect(refused).toHaveLength(5);
    for (const r of refused) expect(r.ms).toBeLessThan(1000);
    expect(statuses.filter((s) => s.value === 503)).toHaveLength(20);
    await holder.query("ROLLBACK");
    expect(await upgradeStatus(t.url, owner.token)).toBe(101);
  });

  it("a handful of stuck requests cannot exhaust the pool: another route still answers", async () => {
    await lock("chat_messages");
    const stuck = Array.from({ length: 6 }, () =>
      t.api("POST", `/v1/tenants/${tenant}/messages`, { token: owner.token, body: { content: "x" } }),
    );
    const me = await timed(t.api("GET", "/v1/auth/me", { token: owner.token }));
    expect(me.value.status).toBe(200);
    expect(me.ms).toBeLessThan(QUICK_MS);
    for (const res of await Promise.all(stuck)) expectUnavailable(res, "stuck chat write");
  });
});

describe("a lock held by another process on SQLite", () => {
  let t: TestServer;
  let other: BetterSqlite3.Database;
  let owner: HubUser;
  let tenant: string;
  beforeAll(async () => {
    t = await startTestServer(sqliteBackend, { DB_LOCK_TIMEOUT: "300ms" });
    other = new BetterSqlite3(t.database.dbPath);
    owner = await hubUser(t.api);
    tenant = (await t.api("POST", "/v1/tenants", { token: owner.token, body: { name: uniqueName("c") } }))
      .body.id;
  });
  afterAll(async () => {
    other?.close();
    await t?.close();
  });

  it("writes answer 503 with Retry-After after the busy wait, reads go on, and writes work once the lock is gone", async () => {
    other.exec("BEGIN IMMEDIATE");
    try {
      for (const call of [
        () =>
          t.api("POST", `/v1/tenants/${tenant}/messages`, { token: owner.token, body: { content: "hi" } }),
        () => t.api("POST", "/v1/tenants", { token: owner.token, body: { name: uniqueName("c") } }),
      ]) {
        const { value, ms } = await timed(call());
        expectUnavailable(value, "write under a held lock");
        expect(ms).toBeLessThan(QUICK_MS);
      }
      expect((await t.api("GET", "/v1/auth/me", { token: owner.token })).status).toBe(200);
    } finally {
      other.exec("ROLLBACK");
    }
    const after = await t.api("POST", `/v1/tenants/${tenant}/messages`, {
      token: owner.token,
      body: { content: "hi" },
    });
    expect(after.status).toBe(201);
  });
});

const root = process.getuid?.() === 0;

/** A tiny tmpfs of our own: the disk can be filled and made read-only without touching the machine's. */
describe.runIf(root)("a full disk on SQLite", () => {
  let mount: string;
  let t: TestServer;
  let owner: HubUser;
  let tenant: string;
  beforeAll(async () => {
    mount = mkdtempSync(path.join(tmpdir(), "warren-disk-"));
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mount]);
    const dataDir = path.join(mount, "data");
    t = await startTestServer(sqliteBackend, { DATA_DIR: dataDir, DB_PATH: path.join(dataDir, "warren.db") });
    owner = await hubUser(t.api);
    tenant = (await t.api("POST", "/v1/tenants", { token: owner.token, body: { name: uniqueName("c") } }))
      .body.id;
  });
  afterAll(async () => {
    await t?.close();
    if (mount) {
      execFileSync("umount", ["-l", mount]);
      rmSync(mount, { recursive: true, force: true });
    }
  });

  const post = (content: string) =>
    t.api("POST", `/v1/tenants/${tenant}/messages`, { token: owner.token, body: { content } });

  it("answers 503 (not 500) while the disk is full, stays up, and writes again once space is freed", async () => {
    const filler = path.join(mount, "filler");
    const fd = openSync(filler, "w");
    const block = Buffer.alloc(64 * 1024, 1);
    try {
      for (let i = 0; i < 1000; i++) writeSync(fd, block);
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe("ENOSPC");
    } finally {
      closeSync(fd);
    }
    let refused: Awaited<ReturnType<typeof post>> | undefined;
    for (let i = 0; i < 200 && !refused; i++) {
      const res = await post("x".repeat(3000));
      if (res.status !== 201) refused = res;
    }
    expect(refused, "some write must hit the full disk").toBeDefined();
    expectUnavailable(refused as NonNullable<typeof refused>, "full disk");
    expect((await t.api("GET", "/v1/auth/me", { token: owner.token })).status).toBe(200);
    rmSync(filler);
    expect((await post("after the disk was freed")).status).toBe(201);
  });
});
