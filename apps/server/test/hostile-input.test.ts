import { request as httpRequest } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { backends } from "./helpers/backends.js";
import { clientPool, hubUser, wsUrl } from "./helpers/hub-client.js";
import { startTestServer, type TestServer, uniqueName } from "./helpers/server.js";

const nest = (depth: number, inner: unknown = 1): unknown => {
  let value = inner;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { v: value };
  return value;
};
/** Deep nesting written as text: building it as a value and stringifying would overflow here. */
const deepText = (depth: number) => `${"[".repeat(depth)}1${"]".repeat(depth)}`;

/** An upgrade request made by hand, to send headers a WebSocket library would not. */
function rawUpgrade(url: string, headers: Record<string, string>) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = httpRequest(`${url}/v1/ws`, {
        headers: {
          connection: "Upgrade",
          upgrade: "websocket",
          "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
          ...headers,
        },
      });
      req.on("response", (res) => {
        let body = "";
        res.on("data", (c) => {
          body += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on("upgrade", () => reject(new Error("upgraded")));
      req.on("error", reject);
      req.end();
    },
  );
}

describe.each(backends())("hostile input at the edge on $name", (backend) => {
  let t: TestServer;
  const pool = clientPool();
  beforeAll(async () => {
    t = await startTestServer(backend, { MAX_JSON_DEPTH: "16", MAX_SOCKETS_PER_USER: "3" });
  });
  afterEach(() => pool.closeAll());
  afterAll(async () => t?.close());

  const community = async (token: string) => {
    const res = await t.api("POST", "/v1/tenants", { token, body: { name: uniqueName("c") } });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };

  it("answers a body nested deeper than MAX_JSON_DEPTH with 400 json_too_deep, and one at the limit normally", async () => {
    const user = await hubUser(t.api);
    for (const raw of [
      JSON.stringify({ name: "x", description: nest(16) }),
      `{"name":"x","description":${deepText(5000)}}`,
      `{"name":"x","description":${deepText(100_000)}}`,
    ]) {
      const res = await t.api("POST", "/v1/tenants", {
        token: user.token,
        raw,
        headers: { "content-type": "application/json" },
      });
      expect(res.status, raw.slice(0, 40)).toBe(400);
      expect(res.body.error.code).toBe("json_too_deep");
      expect(res.body.error.message).toMatch(/16 levels/);
    }
    // 15 levels inside the body object: 16 in all, allowed (and refused by the schema instead).
    const atLimit = await t.api("POST", "/v1/tenants", {
      token: user.token,
      body: { name: "x", description: nest(15) },
    });
    expect(atLimit.body.error.code).toBe("invalid_request");
    expect((await t.api("GET", "/v1/auth/me", { token: user.token })).status).toBe(200);
  });

  it("refuses NUL anywhere (bodies, queries, paths) with 400 invalid_text, the same on every backend, and stores nothing", async () => {
    const user = await hubUser(t.api);
    const id = await community(user.token);
    const cases: [string, string, unknown][] = [
      ["POST", "/v1/tenants", { name: "bad\u0000name" }],
      ["POST", "/v1/tenants", { name: "ok", description: "hidden\u0000tail" }],
      ["POST", `/v1/tenants/${id}/messages`, { content: "hello\u0000world" }],
      ["POST", "/v1/tenants", { name: "ok", "key\u0000": 1 }],
      ["GET", "/v1/tenants?q=%00", undefined],
      ["GET", "/v1/users/check/ab%00c", undefined],
    ];
    for (const [method, path, body] of cases) {
      const res = await t.api(method, path, { token: user.token, ...(body === undefined ? {} : { body }) });
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(res.body.error.code, `${method} ${path}`).toBe("invalid_text");
    }
    const messages = await t.api("GET", `/v1/tenants/${id}/messages`, { token: user.token });
    expect(messages.body.messages).toEqual([]);
  });

  it("refuses control characters in names, and structured values with surrounding whitespace", async () => {
    const user = await hubUser(t.api);
    for (const name of ["bell\u0007", "line\nbreak", "tab\there", "esc\u001b[31m", "c1\u0085"]) {
      const res = await t.api("POST", "/v1/tenants", { token: user.token, body: { name } });
      expect(res.status, JSON.stringify(name)).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
    }
    expect(
      (await t.api("POST", "/v1/tenants", { token: user.token, body: { name: "Ünïcode & spaces ok" } }))
        .status,
    ).toBe(201);
    const id = await community(user.token);
    for (const cidr of [" 10.77.0.0/24", "10.77.0.0/24 ", "10.77.0.0/24\n"]) {
      const res = await t.api("POST", `/v1/tenants/${id}/networks`, {
        token: user.token,
        body: { name: uniqueName("n"), cidr },
      });
      expect(res.status, JSON.stringify(cidr)).toBe(400);
    }
    const networks = await t.api("GET", `/v1/tenants/${id}/networks`, { token: user.token });
    expect(networks.body.networks).toEqual([]);
  });

  it("answers a frame nested too deep (a relay payload thousands deep) with json_too_deep and keeps the socket", async () => {
    const alice = await hubUser(t.api);
    const a = await pool.connect(t.url, alice);
    const b = await pool.connect(t.url, alice, { device: "second" });
    // 20,000 levels: 40 KB, under MAX_MESSAGE_BYTES, so the frame reaches the parser.
    for (const depth of [17, 5000, 20_000]) {
      a.sendRaw(`{"type":"signal","id":"deep${depth}","to":"${alice.id}","payload":${deepText(depth)}}`);
      const err = await a.next((f) => f.re === `deep${depth}`);
      expect(err).toMatchObject({ type: "error", code: "json_too_deep" });
    }
    a.sendRaw(`{"type":"room.create","id":"nul","name":"x\\u0000y"}`);
    expect(await a.next((f) => f.re === "nul")).toMatchObject({ type: "error", code: "invalid_text" });
    // Still open, and a frame at the limit still relays.
    const ok = await a.request({ type: "signal", to: alice.id, payload: nest(14) });
    expect(ok.result).toEqual({ delivered: true });
    expect((await b.next("signal")).payload).toEqual(nest(14));
  });

  it("answers an upgrade with a WebSocket version other than 13 with 426 and Sec-WebSocket-Version: 13", async () => {
    const user = await hubUser(t.api);
    for (const version of ["8", "12", "14", ""]) {
      const res = await rawUpgrade(t.url, {
        authorization: `Bearer ${user.token}`,
        "sec-websocket-version": version,
      });
      expect(res.status, version).toBe(426);
      expect(res.headers["sec-websocket-version"]).toBe("13");
      expect(JSON.parse(res.body).error.code).toBe("upgrade_required");
    }
  });

  it("closes a user's socket over MAX_SOCKETS_PER_USER with 4002 and a reason; freeing one lets the next in", async () => {
    const user = await hubUser(t.api);
    const open = [];
    for (let i = 0; i < 3; i++) open.push(await pool.connect(t.url, user, { device: `d${i}` }));
    const extra = new WebSocket(wsUrl(t.url), { headers: { authorization: `Bearer ${user.token}` } });
    const closed = await new Promise<{ code: number; reason: string }>((resolve) =>
      extra.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    expect(closed.code).toBe(4002);
    expect(closed.reason).toMatch(/too many open sockets.*limit 3/);
    // Another account is not affected.
    await pool.connect(t.url, await hubUser(t.api));
    await open[0]?.close();
    const again = await pool.connect(t.url, user, { device: "d3" });
    expect(again.welcome.type).toBe("welcome");
  });
});
