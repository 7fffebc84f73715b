import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { POSTGRES_URL } from "./helpers/backends.js";
import type { HubUser } from "./helpers/hub-client.js";
import { removeTempDirs, type ServerProcess, startWarren, stopAll } from "./helpers/process.js";
import { apiFor } from "./helpers/server.js";
import { networkFixtures } from "./networks-fixtures.js";

/**
 * Address allocation across processes: two real `warren server` processes on
 * one PostgreSQL database. Only the row lock in the database can keep them from handing
 * out one address twice, so this is the test that proves it is taken.
 */

if (!POSTGRES_URL) {
  console.warn(
    "networks multi-process test not run: set WARREN_TEST_POSTGRES=postgres://user@host:5432/db to include it",
  );
}

describe.skipIf(!POSTGRES_URL)("networks across two server processes on one PostgreSQL", () => {
  const adminUrl = POSTGRES_URL as string;
  const name = `warren_t_${randomBytes(6).toString("hex")}`;
  const withClient = async <T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };

  afterAll(async () => {
    await stopAll();
    removeTempDirs();
    await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  });

  it("100 concurrent joins split across both processes get 100 distinct addresses", async () => {
    await withClient(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`));
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    // One signing secret: a token from one process is good on the other, as behind a load balancer.
    const env = {
      DATABASE_URL: url.toString(),
      JWT_SECRET: randomBytes(32).toString("hex"),
      LOG_LEVEL: "warn",
    };
    // The first start migrates the empty database; the second starts while A is set up.
    const a: ServerProcess = await startWarren({ env });
    const starting = startWarren({ env });
    const fa = networkFixtures(apiFor(`http://127.0.0.1:${a.port}`));
    const owner = await fa.user();
    const tenant = await fa.community(owner);
    const id = await fa.network(tenant, owner, { cidr: "100.64.0.0/24" });
    const b: ServerProcess = await starting;
    const fb = networkFixtures(apiFor(`http://127.0.0.1:${b.port}`));
    const users: HubUser[] = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? fb : fa).user()),
    );
    for (const [i, u] of users.entries()) {
      const f = i % 2 ? fb : fa;
      await f.member(tenant, u, "member", owner);
      await f.joined(id, u);
    }
    const devices = (
      await Promise.all(
        users.map((u, i) =>
          Promise.all(Array.from({ length: 10 }, (_, k) => (i % 2 ? fb : fa).device(u, `p${k}`))),
        ),
      )
    ).flatMap((list, i) => list.map((d) => ({ user: users[i] as HubUser, device: d.id })));
    expect(devices).toHaveLength(100);

    // Every second request goes to the other process.
    const answers = await Promise.all(
      devices.map(({ user, device }, n) => (n % 2 ? fb : fa).addPeer(id, user, device)),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(100).fill(201));
    const addresses = answers.map((r) => r.body.address as string);
    expect(new Set(addresses).size).toBe(100);

    const stored = await withClient(url.toString(), (c) =>
      c.query(
        "select count(*)::int as n, count(distinct address_num)::int as d from peers where network_id = $1",
        [id],
      ),
    );
    expect(stored.rows[0]).toEqual({ n: 100, d: 100 });
    for (const p of [a, b]) {
      p.child.kill("SIGTERM");
      await p.waitForExit(10_000);
    }
  }, 180_000);
});
