import { SignJWT } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { backends, sqliteBackend } from "./helpers/backends.js";
import { PASSWORD, register, startTestServer, type TestServer } from "./helpers/server.js";
import { type Frame, freshId, sleep, socketPool, type WsClient } from "./helpers/ws.js";

/**
 * The hub's connection level, black-box: real `ws` clients over real sockets against a
 * real server. Upgrade (paths, tokens, origins, upgrade limit, device), the welcome,
 * ping/pong, and how bad frames are answered. Storage does not matter here: SQLite only.
 */

const SECRET = "connection-test-secret-0123456789abcdef";
const pool = socketPool();
afterEach(() => pool.closeAll());

/** Signs an access token by hand (to make expired or foreign-key tokens). */
async function accessToken(
  claims: { sub: string; sid: string },
  options: { secret?: string; exp?: number; iat?: number } = {},
) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sid: claims.sid, typ: "access" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(claims.sub)
    .setJti(freshId())
    .setIssuedAt(options.iat ?? now)
    .setExpirationTime(options.exp ?? now + 600)
    .sign(new TextEncoder().encode(options.secret ?? SECRET));
}

/** Waits `ms` and returns every kept frame of `c` carrying re: `id`. */
async function repliesTo(c: WsClient, id: string, ms = 300): Promise<Frame[]> {
  await sleep(ms);
  return c.all((f) => f.re === id);
}

describe("hub connection on sqlite", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(sqliteBackend, {
      JWT_SECRET: SECRET,
      // Many upgrades from 127.0.0.1 in this suite; the upgrade limit has its own test.
      UPGRADE_RATE_LIMIT: "100000",
      MAX_MESSAGE_BYTES: "32KiB",
      MESSAGE_RATE_LIMIT: "500",
      MESSAGE_BURST_LIMIT: "700",
      HEARTBEAT_INTERVAL: "20s",
    });
  });
  afterAll(async () => {
    await pool.closeAll();
    await t?.close();
  });

  describe("upgrade", () => {
    it("opens at /v1/ws and at /ws, and answers any other path with 404 before the upgrade", async () => {
      const { user, tokens } = await register(t.api);
      for (const path of ["/v1/ws", "/ws"]) {
        const c = await pool.connect(t.url, { token: tokens.access_token, path });
        expect(c.welcome.user.id).toBe(user.id);
        expect(c.isOpen).toBe(true);
      }
      for (const path of ["/v1/wss", "/v2/ws", "/", "/v1/ws/extra", "/v1/auth/me"]) {
        const r = await pool.refused(t.url, { token: tokens.access_token, path });
        expect(r.status, path).toBe(404);
        expect(r.body.error.code).toBe("not_found");
      }
    });

    it("takes the token from Authorization: Bearer, from the bearer subprotocol, or from ?token=", async () => {
      const { user, tokens } = await register(t.api);
      const header = await pool.connect(t.url, { token: tokens.access_token, via: "header" });
      expect(header.welcome.user).toEqual({ id: user.id, username: user.username });
      expect(header.ws.protocol).toBe("");

      const protocol = await pool.connect(t.url, { token: tokens.access_token, via: "protocol" });
      expect(protocol.welcome.user.id).toBe(user.id);
      // The server picks warren.v1, never echoes the token back.
      expect(protocol.ws.protocol).toBe("warren.v1");

      const query = await pool.connect(t.url, { token: tokens.access_token, via: "query", path: "/ws" });
      expect(query.welcome.user.id).toBe(user.id);

      // All three are usable sockets.
      for (const c of [header, protocol, query])
        expect((await c.request({ type: "ping" })).type).toBe("pong");
    });

    it("answers a missing token with 401 unauthorized before the upgrade", async () => {
      for (const path of ["/v1/ws", "/ws"]) {
        const r = await pool.refused(t.url, { path });
        expect(r.status).toBe(401);
        expect(r.body).toMatchObject({ error: { code: "unauthorized" } });
        expect(r.headers["content-type"]).toMatch(/application\/json/);
      }
      // warren.v1 alone, without bearer.<token>, is no token either.
      const bare = await pool.refused(t.url, { protocols: ["warren.v1"] });
      expect([bare.status, bare.body.error.code]).toEqual([401, "unauthorized"]);
    });

    it("answers a bad, foreign-key, expired or wrong-kind token with 401 in every position", async () => {
      const { user, tokens } = await register(t.api);
      const sid = tokens.session_id as string;
      const now = Math.floor(Date.now() / 1000);
      const cases: [string, string][] = [
        ["junk", "not.a.jwt"],
        ["garbage", "x"],
        [
          "foreign key",
          await accessToken({ sub: user.id, sid }, { secret: "another-secret-0123456789abcdef-xyz" }),
        ],
        ["expired", await accessToken({ sub: user.id, sid }, { iat: now - 120, exp: now - 60 })],
        ["refresh token", tokens.refresh_token],
        [
          "tampered",
          `${tokens.access_token.slice(0, -3)}${tokens.access_token.endsWith("A") ? "BBB" : "AAA"}`,
        ],
      ];
      for (const via of ["header", "protocol", "query"] as const) {
        for (const [name, token] of cases) {
          const r = await pool.refused(t.url, { token, via });
          expect(r.status, `${name} via ${via}`).toBe(401);
          expect(["invalid_token", "token_expired"], `${name} via ${via}`).toContain(r.body.error.code);
          if (name === "expired") expect(r.body.error.code).toBe("token_expired");
        }
      }
      // Authorization present but not Bearer.
      const basic = await pool.refused(t.url, { headers: { authorization: "Basic dXNlcjpwYXNz" } });
      expect(basic.status).toBe(401);
      // The good token still works after all that.
      const ok = await pool.connect(t.url, { token: tokens.access_token });
      expect(ok.welcome.user.id).toBe(user.id);
      // A hand-made token with the right key and a live session is accepted: the
      // refusals above were about the token, not about signing by hand.
      const handMade = await pool.connect(t.url, { token: await accessToken({ sub: user.id, sid }) });
      expect(handMade.welcome.user.id).toBe(user.id);
    });

    it("refuses an invalid device id with 400 before the upgrade, and echoes a valid one", async () => {
      const { tokens } = await register(t.api);
      for (const device of ["", "has space", "x".repeat(65), "é", "a/b"]) {
        const r = await pool.refused(t.url, { token: tokens.access_token, query: { device } });
        expect(r.status, JSON.stringify(device)).toBe(400);
        expect(r.body.error.code).toBe("invalid_request");
        expect(r.body.error.message).toMatch(/device/);
      }
      const c = await pool.connect(t.url, { token: tokens.access_token, query: { device: "laptop-1" } });
      expect(c.welcome.device).toBe("laptop-1");
      const longest = "A.b_c:d-".repeat(8);
      const d = await pool.connect(t.url, { token: tokens.access_token, query: { device: longest } });
      expect(d.welcome.device).toBe(longest);
      // The header form names the device too.
      const h = await pool.connect(t.url, {
        token: tokens.access_token,
        headers: { "x-warren-device": "phone.2" },
      });
      expect(h.welcome.device).toBe("phone.2");
    });
  });

  describe("welcome", () => {
    it("is the first frame: user, device, session, server_time, limits, protocol_version", async () => {
      const { user, tokens } = await register(t.api);
      const before = Date.now();
      const c = await pool.connect(t.url, { token: tokens.access_token, hello: false });
      const w = c.welcome;
      // The very first frame received is the welcome.
      expect(c.frames[0]).toBe(w);
      expect(w).toEqual({
        type: "welcome",
        user: { id: user.id, username: user.username },
        device: expect.any(String),
        session: expect.any(String),
        server_time: expect.any(String),
        limits: {
          max_message_bytes: 32 * 1024,
          message_rate_limit: 500,
          message_burst_limit: 700,
          heartbeat_interval_ms: 20_000,
        },
        protocol_version: 1,
      });
      expect(w.server_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
      const at = Date.parse(w.server_time);
      expect(at).toBeGreaterThanOrEqual(before - 1000);
      expect(at).toBeLessThanOrEqual(Date.now() + 1000);
      expect(w.device.length).toBeGreaterThan(0);
      expect(w.device).toMatch(/^[A-Za-z0-9_.:-]{1,64}$/);
    });

    it("gives each connection its own session and device; a user may connect from many devices", async () => {
      const { user, tokens } = await register(t.api);
      const a = await pool.connect(t.url, { token: tokens.access_token });
      const b = await pool.connect(t.url, { token: tokens.access_token });
      const l = await pool.connect(t.url, { token: tokens.access_token, query: { device: "laptop-1" } });
      for (const c of [a, b, l]) expect(c.welcome.user.id).toBe(user.id);
      expect(new Set([a.welcome.session, b.welcome.session, l.welcome.session]).size).toBe(3);
      expect(a.welcome.device).not.toBe(b.welcome.device);
      expect(l.welcome.device).toBe("laptop-1");
      for (const c of [a, b, l]) expect((await c.request({ type: "ping" })).type).toBe("pong");
    });
  });

  describe("frames", () => {
    let c: WsClient;
    beforeAll(async () => {
      const { tokens } = await register(t.api);
      // Not in the pool: this socket lives through the whole describe.
      c = await socketPool().connect(t.url, { token: tokens.access_token });
    });
    afterAll(async () => c?.close());

    it("answers ping with pong, carrying re only when the ping had an id", async () => {
      c.send({ type: "ping" });
      const pong = await c.next("pong");
      expect(pong).toEqual({ type: "pong" });
      const reply = await c.request({ type: "ping" });
      expect(reply).toEqual({ type: "pong", re: expect.any(String) });
      // Unknown extra fields are ignored (newer clients, older servers).
      const extra = await c.request({ type: "ping", future_field: { a: 1 } });
      expect(extra.type).toBe("pong");
    });

    it("answers bad JSON with invalid_json and keeps the connection", async () => {
      for (const text of ["{", "not json", '{"type":"ping"', "\u0000", '{"type": "ping",}']) {
        c.send(text);
        const err = await c.next("error");
        expect(err).toMatchObject({ type: "error", code: "invalid_json", message: expect.any(String) });
        expect(err.re).toBeUndefined();
      }
      expect(c.isOpen).toBe(true);
      expect((await c.request({ type: "ping" })).type).toBe("pong");
    });

    it("answers JSON that is not an object with invalid_request", async () => {
      for (const text of ["[]", "[1,2]", "5", '"ping"', "null", "true"]) {
        c.send(text);
        const err = await c.next("error");
        expect(err, text).toMatchObject({ code: "invalid_request" });
      }
      expect((await c.request({ type: "ping" })).type).toBe("pong");
    });

    it("answers an unknown or missing type, with re when the frame had an id", async () => {
      const unknown = await c.request({ type: "no.such.thing" });
      expect(unknown).toMatchObject({ type: "error", code: "unknown_type", re: expect.any(String) });
      expect(unknown.message).toContain("no.such.thing");

      c.send({ type: "nope" });
      const noId = await c.next((f) => f.type === "error" && f.code === "unknown_type");
      expect(noId.re).toBeUndefined();

      for (const frame of [{}, { type: 5 }, { type: null }, { type: ["ping"] }]) {
        const err = await c.request(frame);
        expect(err, JSON.stringify(frame)).toMatchObject({ type: "error", code: "invalid_request" });
        expect(err.message).toMatch(/type/);
      }
      // Prototype keys are not frame types.
      for (const type of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
        const err = await c.request({ type });
        expect(err, type).toMatchObject({ type: "error", code: "unknown_type" });
      }
      expect(c.isOpen).toBe(true);
    });

    it("answers missing or wrongly typed fields with invalid_request naming the field", async () => {
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ type: "offer", payload: {} }, /\bto\b/],
        [{ type: "offer", to: 5, payload: {} }, /\bto\b/],
        [{ type: "answer", to: "not-a-uuid", payload: {} }, /\bto\b/],
        [{ type: "signal", to: "01A20169-226A-7000-8219-34790DF7608A", payload: {} }, /\bto\b/],
        [{ type: "signal", to: "01a20169-226a-7000-8219-34790df7608a" }, /payload/],
        [
          {
            type: "candidate",
            to: "01a20169-226a-7000-8219-34790df7608a",
            to_device: "bad device",
            payload: 1,
          },
          /to_device/,
        ],
        [{ type: "room.create" }, /\bname\b/],
        [{ type: "room.create", name: "" }, /\bname\b/],
        [{ type: "room.create", name: "x", max_members: "ten" }, /max_members/],
        [{ type: "room.join", room: 5 }, /\broom\b/],
        [{ type: "broadcast", payload: 1 }, /\broom\b/],
        [{ type: "presence.query", users: "everyone" }, /users/],
        [{ type: "command" }, /\bname\b/],
      ];
      for (const [frame, field] of cases) {
        const err = await c.request(frame);
        expect(err, JSON.stringify(frame)).toMatchObject({ type: "error", code: "invalid_request" });
        expect(err.message, JSON.stringify(frame)).toMatch(field);
      }
      // An id of 64 code points is valid even where it is more UTF-16 units than that.
      const longId = "😀".repeat(64);
      c.send({ type: "signal", id: longId, to: "01a20169-226a-7000-8219-34790df7608a", payload: 1 });
      expect(await c.next((f) => f.re === longId)).toMatchObject({ type: "error", code: "peer_unavailable" });
      // An id that is not a string cannot be echoed; the frame is still refused.
      c.send({ type: "ping", id: 7 });
      const badId = await c.next("error");
      expect(badId).toMatchObject({ code: "invalid_request" });
      expect(badId.message).toMatch(/\bid\b/);
      expect(c.isOpen).toBe(true);
    });

    it("gives a frame with an id exactly one reply carrying re", async () => {
      const frames: Record<string, unknown>[] = [
        { type: "ping" },
        { type: "no.such.type" },
        { type: "offer", payload: {} },
        { type: "offer", to: "01a20169-226a-7000-8219-34790df7608a", payload: { sdp: "x" } },
        { type: "room.list" },
        { type: "room.create", name: "once" },
        { type: "presence.query", users: [] },
        { type: "command", name: "ping" },
        { type: "command", name: "no-such-command" },
        { type: "room.leave", room: "01a20169-226a-7000-8219-34790df7608a" },
      ];
      const ids: string[] = [];
      // Sent back to back, so replies of one cannot hide behind another.
      for (const f of frames) {
        const id = freshId();
        ids.push(id);
        c.send({ ...f, id });
      }
      await sleep(400);
      for (const [i, id] of ids.entries()) {
        const replies = c.all((f) => f.re === id);
        expect(replies, JSON.stringify(frames[i])).toHaveLength(1);
      }
      // And a frame without an id gets no re at all.
      const before = c.frames.length;
      c.send({ type: "room.list" });
      await sleep(200);
      for (const f of c.frames.slice(before)) expect(f.re).toBeUndefined();
    });

    it("keeps serving after a long run of bad frames", async () => {
      for (let i = 0; i < 50; i++) c.send(i % 2 ? "{bad" : { type: `bogus${i}` });
      const id = freshId();
      c.send({ type: "ping", id });
      const replies = await repliesTo(c, id, 300);
      expect(replies).toEqual([{ type: "pong", re: id }]);
    });
  });
});

/** Sign-in sessions end sockets: these read the session store, so every backend runs them. */
describe.each(backends())("hub and sign-in sessions on $name", (backend) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(backend, { UPGRADE_RATE_LIMIT: "100000" });
  });
  afterAll(async () => {
    await pool.closeAll();
    await t?.close();
  });

  it("answers the token of a logged-out session with 401", async () => {
    const { tokens } = await register(t.api);
    expect((await t.api("POST", "/v1/auth/logout", { token: tokens.access_token })).status).toBe(204);
    for (const via of ["header", "protocol", "query"] as const) {
      const r = await pool.refused(t.url, { token: tokens.access_token, via });
      expect(r.status, via).toBe(401);
      expect(r.body.error.code).toBe("invalid_token");
    }
  });

  it("closes that session's sockets with 4001; another session of the same user stays open", async () => {
    const { user, tokens } = await register(t.api);
    const other = await t.api("POST", "/v1/auth/login", {
      body: { username: user.username, password: PASSWORD },
    });
    expect(other.status).toBe(200);
    const otherToken = other.body.tokens.access_token as string;
    expect(other.body.tokens.session_id).not.toBe(tokens.session_id);

    const a1 = await pool.connect(t.url, { token: tokens.access_token });
    const a2 = await pool.connect(t.url, { token: tokens.access_token, via: "query" });
    const b = await pool.connect(t.url, { token: otherToken });
    const stranger = await pool.connect(t.url, { token: (await register(t.api)).tokens.access_token });

    expect((await t.api("POST", "/v1/auth/logout", { token: tokens.access_token })).status).toBe(204);
    for (const c of [a1, a2]) {
      const closed = await c.closed(3000);
      expect(closed.code).toBe(4001);
    }
    await sleep(200);
    for (const c of [b, stranger]) {
      expect(c.isOpen).toBe(true);
      expect((await c.request({ type: "ping" })).type).toBe("pong");
    }
    // And the logged-out token cannot come back.
    expect((await pool.refused(t.url, { token: tokens.access_token })).status).toBe(401);
  });

  it("closes the sockets of a session revoked for refresh-token reuse with 4001", async () => {
    const { tokens } = await register(t.api);
    const c = await pool.connect(t.url, { token: tokens.access_token });
    const first = await t.api("POST", "/v1/auth/refresh", { body: { refresh_token: tokens.refresh_token } });
    expect(first.status).toBe(200);
    // A refresh does not end the session: the socket stays.
    await sleep(150);
    expect(c.isOpen).toBe(true);
    const reused = await t.api("POST", "/v1/auth/refresh", { body: { refresh_token: tokens.refresh_token } });
    expect(reused.status).toBe(401);
    expect((await c.closed(3000)).code).toBe(4001);
  });
});

describe("hub upgrade rules with ALLOWED_ORIGINS and UPGRADE_RATE_LIMIT", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(sqliteBackend, {
      ALLOWED_ORIGINS: "https://app.example.com,http://localhost:5173",
      UPGRADE_RATE_LIMIT: "100000",
    });
  });
  afterAll(async () => {
    await pool.closeAll();
    await t?.close();
  });

  it("refuses another Origin with 403; a listed Origin and no Origin open", async () => {
    const { tokens } = await register(t.api);
    for (const origin of [
      "https://evil.example.com",
      "https://app.example.com.evil.test",
      "null",
      "http://localhost:5174",
    ]) {
      const r = await pool.refused(t.url, { token: tokens.access_token, ws: { origin } });
      expect(r.status, origin).toBe(403);
      expect(r.body.error.code).toBe("forbidden");
    }
    // Origin is checked before the token: a stranger page learns nothing about tokens.
    const noToken = await pool.refused(t.url, { ws: { origin: "https://evil.example.com" } });
    expect(noToken.status).toBe(403);

    for (const origin of ["https://app.example.com", "http://localhost:5173"]) {
      const c = await pool.connect(t.url, { token: tokens.access_token, ws: { origin } });
      expect(c.welcome.type).toBe("welcome");
    }
    const native = await pool.connect(t.url, { token: tokens.access_token });
    expect(native.welcome.type).toBe("welcome");
    // A listed origin still needs a token.
    const listedNoToken = await pool.refused(t.url, { ws: { origin: "https://app.example.com" } });
    expect(listedNoToken.status).toBe(401);
  });

  it("answers the 4th upgrade from one address within a minute with 429 (UPGRADE_RATE_LIMIT=3)", async () => {
    const limited = await startTestServer(sqliteBackend, { UPGRADE_RATE_LIMIT: "3" });
    try {
      const { tokens } = await register(limited.api);
      const opened: WsClient[] = [];
      for (let i = 0; i < 3; i++)
        opened.push(await pool.connect(limited.url, { token: tokens.access_token }));
      const r = await pool.refused(limited.url, { token: tokens.access_token });
      expect(r.status).toBe(429);
      expect(r.body.error.code).toBe("rate_limited");
      expect(Number(r.headers["retry-after"])).toBeGreaterThan(0);
      // Closing sockets does not give the upgrades back within the minute…
      await Promise.all(opened.map((c) => c.close()));
      expect((await pool.refused(limited.url, { token: tokens.access_token })).status).toBe(429);
      // …and without a token the answer is still 429, not 401: the limit comes first.
      expect((await pool.refused(limited.url, {})).status).toBe(429);
      // HTTP requests from the same address are not affected.
      expect((await limited.api("GET", "/v1/auth/me", { token: tokens.access_token })).status).toBe(200);
    } finally {
      await pool.closeAll();
      await limited.close();
    }
  });
});
