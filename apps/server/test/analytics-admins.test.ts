import { afterEach, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../src/index.js";
import { type Backend, backends, type TestDatabase } from "./helpers/backends.js";
import { clientPool, hubUser } from "./helpers/hub-client.js";
import {
  type Api,
  apiFor,
  configFor,
  register,
  startTestServer,
  type TestServer,
  uniqueName,
} from "./helpers/server.js";

/**
 * Who reads analytics: server admins, named in ADMIN_USERS (by username or
 * id) or the first account created on an empty server. Everyone else signed in: 403;
 * nobody signed in: 401. The hub's admin-only commands use the same definition.
 */

const PATHS = ["/v1/analytics/summary", "/v1/analytics/users/daily", "/v1/analytics/messages/stats"];

describe.each(backends())("analytics admins on $name", (backend: Backend) => {
  const servers: { close(): Promise<void> }[] = [];
  const pool = clientPool();
  afterEach(async () => {
    await pool.closeAll();
    for (const s of servers.splice(0).reverse()) await s.close();
  });

  const start = async (settings: Record<string, string> = {}): Promise<TestServer> => {
    const t = await startTestServer(backend, { UPGRADE_RATE_LIMIT: "1000", ...settings });
    servers.push(t);
    return t;
  };
  const statuses = async (api: Api, token?: string) =>
    Promise.all(PATHS.map(async (p) => (await api("GET", p, token ? { token } : {})).status));

  it("makes the first account on an empty server an admin, and only that one", async () => {
    const t = await start();
    const first = await register(t.api);
    const second = await register(t.api);
    expect((await t.server.repositories.users.byId(first.user.id))?.is_admin).toBe(1);
    expect((await t.server.repositories.users.byId(second.user.id))?.is_admin).toBe(0);
    expect(await statuses(t.api, first.tokens.access_token)).toEqual([200, 200, 200]);

    const refused = await t.api("GET", "/v1/analytics/summary", { token: second.tokens.access_token });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("forbidden");
    expect(await statuses(t.api, second.tokens.access_token)).toEqual([403, 403, 403]);

    expect(await statuses(t.api)).toEqual([401, 401, 401]);
    const none = await t.api("GET", "/v1/analytics/summary");
    expect(none.body.error.code).toBe("unauthorized");
    const bad = await t.api("GET", "/v1/analytics/summary", { token: "not-a-token" });
    expect([bad.status, bad.body.error.code]).toEqual([401, "invalid_token"]);
  });

  it("gives exactly one admin when registrations race on an empty server", async () => {
    const t = await start();
    const results = await Promise.all(
      Array.from({ length: 6 }, () => register(t.api, { username: uniqueName("racer") })),
    );
    const flags = await Promise.all(
      results.map(async (r) => (await t.server.repositories.users.byId(r.user.id))?.is_admin),
    );
    expect(flags.filter((f) => f === 1)).toHaveLength(1);
    expect(flags.filter((f) => f === 0)).toHaveLength(5);
    const answers = await Promise.all(
      results.map(
        async (r) => (await t.api("GET", "/v1/analytics/summary", { token: r.tokens.access_token })).status,
      ),
    );
    expect(answers.sort()).toEqual([200, 403, 403, 403, 403, 403]);
  });

  it("reads ADMIN_USERS by username in any case, and the same admins run admin-only hub commands", async () => {
    const name = uniqueName("Boss");
    const t = await start({ ADMIN_USERS: `nobody, ${name.toUpperCase()}` });
    const first = await hubUser(t.api);
    const boss = await hubUser(t.api, { username: name });
    const plain = await hubUser(t.api);
    expect((await t.api("GET", "/v1/analytics/summary", { token: boss.token })).status).toBe(200);
    expect((await t.api("GET", "/v1/analytics/summary", { token: plain.token })).status).toBe(403);

    t.server.services.commands.register("admin.only", () => "done", { admin: true });
    for (const [user, ok] of [
      [first, true],
      [boss, true],
      [plain, false],
    ] as const) {
      const c = await pool.connect(t.url, user);
      const reply = await c.request({ type: "command", name: "admin.only" });
      expect(reply.type).toBe(ok ? "command.result" : "error");
    }
  });

  it("reads ADMIN_USERS by user id", async () => {
    // The id exists only once the account does: register, then restart on the same
    // database naming it.
    const t = await start();
    await register(t.api);
    const later = await register(t.api);
    expect((await t.api("GET", "/v1/analytics/summary", { token: later.tokens.access_token })).status).toBe(
      403,
    );
    await t.server.close();
    servers.pop();
    const again = await restart(t.database, { ADMIN_USERS: later.user.id });
    servers.push({
      async close() {
        await again.close();
        await t.database.drop();
      },
    });
    const api = apiFor(`http://127.0.0.1:${again.port}`);
    expect((await api("GET", "/v1/analytics/summary", { token: later.tokens.access_token })).status).toBe(
      200,
    );
  });
});

async function restart(database: TestDatabase, settings: Record<string, string>): Promise<RunningServer> {
  return startServer(configFor(database, settings));
}
