import { PROTOCOL_VERSION } from "@warren/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../src/errors.js";
import { sqliteBackend } from "./helpers/backends.js";
import { clientPool, type HubUser, hubUser, sleep } from "./helpers/hub-client.js";
import { startTestServer, type TestServer, uniqueName } from "./helpers/server.js";

const BUILTINS = ["echo", "list_commands", "ping", "server_info", "user_count"];

describe("server commands", () => {
  let t: TestServer;
  const pool = clientPool();
  const adminName = uniqueName("Admin");
  let admin: HubUser;
  const calls: { params: unknown; ctx: any }[] = [];

  beforeAll(async () => {
    // Named by username, in another case than the account's.
    t = await startTestServer(sqliteBackend, {
      UPGRADE_RATE_LIMIT: "1000",
      ADMIN_USERS: `someone-else, ${adminName.toLowerCase()}`,
    });
    admin = await hubUser(t.api, { username: adminName });
    t.server.services.commands.register(
      "x",
      (params, ctx) => {
        calls.push({ params, ctx });
        return { ran: true, params };
      },
      { admin: true, description: "an operator's command" },
    );
    t.server.services.commands.register("open.cmd", () => undefined, { description: "for everyone" });
    t.server.services.commands.register("broken", () => {
      throw new Error("handler bug");
    });
    t.server.services.commands.register("refuses", () => {
      throw new AppError("invalid_request", "params.n must be even");
    });
  });
  afterEach(async () => pool.closeAll());
  afterAll(async () => t?.close());

  const connect = async (u?: HubUser) => pool.connect(t.url, u ?? (await hubUser(t.api)));
  const command = (c: Awaited<ReturnType<typeof connect>>, name: string, params?: unknown) =>
    c.request(params === undefined ? { type: "command", name } : { type: "command", name, params });

  it("runs ping and echo", async () => {
    const c = await connect();
    const pong = await command(c, "ping");
    expect(pong).toEqual({ type: "command.result", re: pong.re, result: "pong" });
    for (const params of [{ a: [1, { b: null }], s: "x" }, "text", 42, [1, 2], false]) {
      const reply = await command(c, "echo", params);
      expect(reply).toEqual({ type: "command.result", re: reply.re, result: params });
    }
    expect((await command(c, "echo")).result).toBeNull();
  });

  it("answers server_info with name, version, protocol version and uptime", async () => {
    const c = await connect();
    const reply = await command(c, "server_info");
    expect(reply.type).toBe("command.result");
    expect(reply.result).toMatchObject({
      name: "warren",
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      protocol_version: PROTOCOL_VERSION,
    });
    // server_info names the newest version; this socket asked for none, so it speaks 1.
    expect(c.welcome.protocol_version).toBe(1);
    expect(Number.isInteger(reply.result.uptime_seconds)).toBe(true);
    expect(reply.result.uptime_seconds).toBeGreaterThanOrEqual(0);
    expect(reply.result.uptime_seconds).toBeLessThan(600);
  });

  it("counts online users with user_count", async () => {
    const c = await connect();
    const before = (await command(c, "user_count")).result;
    expect(before).toEqual({ online: expect.any(Number) });
    expect(before.online).toBeGreaterThanOrEqual(1);
    const other = await hubUser(t.api);
    const o1 = await connect(other);
    const o2 = await connect(other); // a second socket of the same user counts once
    const during = (await command(c, "user_count")).result.online;
    expect(during).toBe(before.online + 1);
    await o1.close();
    await o2.close();
    // Bounded wait for the server to see both go.
    let now = -1;
    for (let i = 0; i < 40; i++) {
      now = (await command(c, "user_count")).result.online;
      if (now === before.online) break;
      await sleep(50);
    }
    expect(now).toBe(before.online);
  });

  it("answers unknown_command for a name nobody registered", async () => {
    const c = await connect();
    const reply = await command(c, "no_such_command", { a: 1 });
    expect(reply).toMatchObject({ type: "error", re: reply.re, code: "unknown_command" });
    expect(typeof reply.message).toBe("string");
    const bad = await c.request({ type: "command" });
    expect([bad.type, bad.code]).toEqual(["error", "invalid_request"]);
    const empty = await c.request({ type: "command", name: "" });
    expect([empty.type, empty.code]).toEqual(["error", "invalid_request"]);
    expect((await command(c, "ping")).result).toBe("pong");
  });

  it("refuses an admin command to other users with forbidden and runs it for ADMIN_USERS", async () => {
    const c = await connect();
    calls.length = 0;
    const refused = await command(c, "x", { n: 1 });
    expect(refused).toMatchObject({ type: "error", re: refused.re, code: "forbidden" });
    expect(calls).toEqual([]);

    const ac = await connect(admin);
    const ran = await command(ac, "x", { n: 2 });
    expect(ran).toEqual({ type: "command.result", re: ran.re, result: { ran: true, params: { n: 2 } } });
    expect(calls).toEqual([
      {
        params: { n: 2 },
        ctx: expect.objectContaining({ userId: admin.id, username: adminName, isAdmin: true }),
      },
    ]);
  });

  it("lists only the commands the user may run", async () => {
    const c = await connect();
    const list = (await command(c, "list_commands")).result.commands;
    const names = list.map((x: any) => x.name);
    expect(names).toEqual([...names].sort());
    for (const b of BUILTINS) expect(names).toContain(b);
    expect(names).toContain("open.cmd");
    expect(names).not.toContain("x");
    for (const entry of list) {
      expect(entry).toEqual({ name: expect.any(String), description: expect.any(String), admin: false });
    }
    expect(list.find((x: any) => x.name === "ping").description.length).toBeGreaterThan(0);

    const ac = await connect(admin);
    const adminList = (await command(ac, "list_commands")).result.commands;
    expect(adminList.find((x: any) => x.name === "x")).toEqual({
      name: "x",
      description: "an operator's command",
      admin: true,
    });
    expect(adminList).toHaveLength(list.length + 1);
  });

  it("answers null for a command that returns nothing, and errors from handlers as error frames", async () => {
    const c = await connect();
    const nothing = await command(c, "open.cmd");
    expect(nothing).toEqual({ type: "command.result", re: nothing.re, result: null });
    const broken = await command(c, "broken");
    expect(broken).toMatchObject({ type: "error", re: broken.re, code: "internal_error" });
    expect(broken.message).not.toContain("handler bug");
    const refused = await command(c, "refuses", { n: 1 });
    expect(refused).toMatchObject({
      type: "error",
      code: "invalid_request",
      message: "params.n must be even",
    });
    expect((await command(c, "ping")).result).toBe("pong");
  });
});
