import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { sqliteBackend } from "../../../apps/server/test/helpers/backends.js";
import { startTestServer, type TestServer } from "../../../apps/server/test/helpers/server.js";
import { createClient, type SocketOptions, WarrenError, type WarrenSocket } from "../src/index.js";
import { nextEvent, signUp, sleep } from "./fixtures.js";

/**
 * The hub socket against a real server over real sockets: welcome, requests and their
 * replies, typed events, timeouts, close(), and tokens refreshed before connecting.
 */
const RANDOM_ID = "0190a4c2-1111-7000-8000-000000000000";

describe("sdk socket", () => {
  let t: TestServer;
  const sockets: WarrenSocket[] = [];
  const open = (client: { socket(o?: SocketOptions): WarrenSocket }, options: SocketOptions = {}) => {
    const socket = client.socket({ WebSocket, ...options });
    sockets.push(socket);
    return socket;
  };

  beforeAll(async () => {
    t = await startTestServer(sqliteBackend);
    // A command that answers late, for the timeout tests.
    t.server.services.commands.register("sdk.sleep", async (params) => {
      await sleep(Number(params));
      return "awake";
    });
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });
  afterAll(async () => t?.close());

  it("connects with the token as a subprotocol, speaking version 2, and resolves on welcome", async () => {
    const { client, user } = await signUp(t.url);
    const socket = open(client, { device: "laptop" });
    const opened = nextEvent(socket, "open");
    const welcome = await socket.connect();
    expect([welcome.type, welcome.user.id, welcome.device, welcome.protocol_version]).toEqual([
      "welcome",
      user.id,
      "laptop",
      2,
    ]);
    const event = await opened;
    expect([event.reconnected, event.lostRooms, event.welcome]).toEqual([false, [], welcome]);
    expect([socket.connected, socket.welcome]).toEqual([true, welcome]);
    // Connecting again is a no-op answered with the same welcome.
    expect(await socket.connect()).toBe(welcome);
  });

  it("matches replies to requests: results, pong, command.result and error codes", async () => {
    const { client, user } = await signUp(t.url);
    const socket = open(client);
    await socket.connect();
    const created = await socket.request({ type: "room.create", name: "lan" });
    expect([created.room.name, created.room.owner, created.members.map((m) => m.user)]).toEqual([
      "lan",
      user.id,
      [user.id],
    ]);
    expect(socket.rooms).toEqual([created.room.id]);
    expect(await socket.request({ type: "ping", id: "mine" })).toEqual({ type: "pong", re: "mine" });
    const echoed = await socket.request({ type: "command", name: "echo", params: { a: 1 } });
    expect([echoed.type, echoed.result]).toEqual(["command.result", { a: 1 }]);
    // Several at once, each to its own reply.
    const [list, listAgain] = await Promise.all([
      socket.request({ type: "room.list" }),
      socket.request({ type: "room.list" }),
    ]);
    expect([list.rooms.map((r) => r.id), listAgain.rooms.length]).toEqual([[created.room.id], 1]);

    const missing = await socket.request({ type: "room.join", room: RANDOM_ID }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(WarrenError);
    expect([(missing as WarrenError).code, (missing as WarrenError).status]).toEqual(["not_found", 404]);
    const unknown = await socket.request({ type: "command", name: "nope" }).catch((e: unknown) => e);
    expect((unknown as WarrenError).code).toBe("unknown_command");

    const left = await socket.request({ type: "room.leave", room: created.room.id });
    expect(left).toEqual({ room: created.room.id, left: true });
    expect(socket.rooms).toEqual([]);
  });

  it("delivers typed events, and on() returns an unsubscribe", async () => {
    const [alice, bob] = await Promise.all([signUp(t.url), signUp(t.url)]);
    const a = open(alice.client);
    const b = open(bob.client, { device: "phone" });
    await Promise.all([a.connect(), b.connect()]);
    const { room } = await a.request({ type: "room.create", name: "events", password: "hunter22" });

    const seen: string[] = [];
    const off = a.on("room.peer_joined", (frame) => seen.push(frame.username));
    const joined = nextEvent(a, "room.peer_joined");
    // The version-1 name still listens, to the same frame under its version-2 type.
    const alias = nextEvent(a, "peer_joined");
    await b.request({ type: "room.join", room: room.id, password: "hunter22" });
    expect((await joined).user).toBe(bob.user.id);
    expect(await alias).toBe(await joined);
    expect((await alias).type).toBe("room.peer_joined");
    off();

    const relayed = nextEvent(b, "signal");
    b.on("offer", () => seen.push("offer: never"));
    a.send({ type: "signal", to: bob.user.id, to_device: "phone", payload: { hello: "phone" } });
    const signal = await relayed;
    expect([signal.type, signal.from, signal.from_device, signal.payload]).toEqual([
      "signal",
      alice.user.id,
      a.welcome?.device,
      { hello: "phone" },
    ]);

    const broadcast = nextEvent(a, "broadcast");
    const everyFrame = nextEvent(a, "frame", (f) => f.type === "broadcast");
    expect(await b.request({ type: "broadcast", room: room.id, payload: 42 })).toEqual({ room: room.id });
    expect([(await broadcast).payload, (await everyFrame).type]).toEqual([42, "broadcast"]);

    // bob remembers the room with its password; a kick makes him forget it.
    expect(b.rooms).toEqual([room.id]);
    const kicked = nextEvent(b, "kicked");
    await a.request({ type: "room.kick", room: room.id, user: bob.user.id });
    expect((await kicked).by).toBe(alice.user.id);
    expect(b.rooms).toEqual([]);
    expect(seen).toEqual([bob.user.username]);
  });

  it("rejects a request with timeout after requestTimeoutMs, and keeps working", async () => {
    const { client } = await signUp(t.url);
    const socket = open(client, { requestTimeoutMs: 150 });
    await socket.connect();
    const started = Date.now();
    const err = await socket.request({ type: "command", name: "sdk.sleep", params: 600 }).catch((e) => e);
    expect(err).toBeInstanceOf(WarrenError);
    expect([err.code, err.status]).toEqual(["timeout", 0]);
    expect(Date.now() - started).toBeLessThan(500);
    // The late reply is not mistaken for the next request's.
    await sleep(600);
    expect(await socket.request({ type: "ping" })).toMatchObject({ type: "pong" });
  });

  it("close() stops for good: pending requests reject, no reconnect, connect() refuses", async () => {
    const { client } = await signUp(t.url);
    const socket = open(client, { reconnect: { minDelayMs: 10, maxDelayMs: 20 } });
    let opens = 0;
    socket.on("open", () => opens++);
    await socket.connect();
    const waiting = socket.request({ type: "command", name: "sdk.sleep", params: 300 }).catch((e) => e);
    const closed = nextEvent(socket, "close");
    socket.close();
    expect(await closed).toEqual({ code: 1000, reason: "closed by the client", willReconnect: false });
    const err = await waiting;
    expect([err.code, err.message]).toEqual(["disconnected", "The socket was closed"]);
    expect(socket.connected).toBe(false);
    expect(() => socket.send({ type: "ping" })).toThrow(WarrenError);
    expect((await socket.request({ type: "ping" }).catch((e) => e)).code).toBe("disconnected");
    expect((await socket.connect().catch((e) => e)).code).toBe("disconnected");
    await sleep(200);
    expect(opens).toBe(1);
  });

  it("fails the first connect() with the server's reason when no token can be had", async () => {
    const anonymous = open(createClient({ baseUrl: t.url }));
    const err = await anonymous.connect().catch((e) => e);
    expect([err.code, err.status]).toEqual(["unauthorized", 401]);
    const { client } = await signUp(t.url);
    const nowhere = open(client, { url: "ws://127.0.0.1:1/v1/ws" });
    expect((await nowhere.connect().catch((e) => e)).code).toBe("disconnected");
  });

  it("says what to do when there is no WebSocket implementation", async () => {
    const { client } = await signUp(t.url);
    const socket = client.socket();
    const err = await socket.connect().catch((e) => e);
    expect(String(err.message)).toMatch(/No WebSocket implementation/);
    socket.close();
  });
});

describe("sdk socket tokens", () => {
  let t: TestServer;
  beforeAll(async () => {
    // Whole seconds: a fresh token has 1 to 2 s left, enough for an upgrade, well under 30 s.
    t = await startTestServer(sqliteBackend, { ACCESS_TOKEN_TTL: "2s" });
  });
  afterAll(async () => t?.close());

  it("refreshes an access token that expires within 30 s before connecting", async () => {
    const refreshed: unknown[] = [];
    const { client, user } = await signUp(t.url, (tokens) => refreshed.push(tokens));
    const before = client.tokens?.access_token;
    const socket = client.socket({ WebSocket });
    try {
      expect((await socket.connect()).user.id).toBe(user.id);
      // One sign-up, one refresh ahead of time; no refused upgrade and second refresh.
      expect(refreshed).toHaveLength(2);
      expect(client.tokens?.access_token).not.toBe(before);
    } finally {
      socket.close();
    }
  });

  it("refreshes an expired access token before connecting", async () => {
    const refreshed: unknown[] = [];
    const { client, user } = await signUp(t.url, (tokens) => refreshed.push(tokens));
    await sleep(2100);
    const socket = client.socket({ WebSocket });
    try {
      expect((await socket.connect()).user.id).toBe(user.id);
      expect(refreshed).toHaveLength(2);
    } finally {
      socket.close();
    }
  });

  it("refreshes and retries once when the server refuses a token that looks valid", async () => {
    const { client: signedIn } = await signUp(t.url);
    const real = signedIn.tokens;
    if (!real) throw new Error("no tokens");
    // Far from expiry by its exp, but not signed by this server: the upgrade is refused.
    const payload = Buffer.from(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + 3600 })).toString(
      "base64url",
    );
    const client = createClient({ baseUrl: t.url, tokens: { ...real, access_token: `e30.${payload}.sig` } });
    const socket = client.socket({ WebSocket });
    try {
      await socket.connect();
      expect(client.tokens?.access_token).not.toContain("e30.");
    } finally {
      socket.close();
    }
  });

  it("refuses to connect when the refresh token is no good", async () => {
    const { client: signedIn } = await signUp(t.url);
    const real = signedIn.tokens;
    if (!real) throw new Error("no tokens");
    const client = createClient({
      baseUrl: t.url,
      tokens: { ...real, refresh_token: "not-a-refresh-token" },
    });
    const err = await client
      .socket({ WebSocket })
      .connect()
      .catch((e) => e);
    expect([err.code, err.status]).toEqual(["invalid_refresh_token", 401]);
  });
});
