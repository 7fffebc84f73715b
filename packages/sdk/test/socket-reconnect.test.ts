import net from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { sqliteBackend } from "../../../apps/server/test/helpers/backends.js";
import { startTestServer, type TestServer } from "../../../apps/server/test/helpers/server.js";
import type { CloseEvent, OpenEvent, SocketOptions, WarrenSocket } from "../src/index.js";
import { nextEvent, restartableServer, signUp, sleep } from "./fixtures.js";

/**
 * Staying connected: reconnecting after a server restart (rooms joined again before
 * "open"), after a silent server (heartbeat), and not reconnecting when that cannot
 * help (1008, a session that ended).
 */
const FAST = { minDelayMs: 20, maxDelayMs: 100 };

const sockets: WarrenSocket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});
function track(socket: WarrenSocket) {
  sockets.push(socket);
  const opens: OpenEvent[] = [];
  const closes: CloseEvent[] = [];
  socket.on("open", (e) => opens.push(e));
  socket.on("close", (e) => closes.push(e));
  return { socket, opens, closes };
}

describe("reconnect after a server restart", () => {
  let s: Awaited<ReturnType<typeof restartableServer>>;
  beforeAll(async () => {
    s = await restartableServer(sqliteBackend, { RECONNECT_AFTER: "300ms", SHUTDOWN_TIMEOUT: "2s" });
  });
  afterAll(async () => s?.close());

  it("waits reconnect_after_ms, reconnects, joins its rooms again, then emits open with reconnected", async () => {
    const [alice, bob] = await Promise.all([signUp(s.url), signUp(s.url)]);
    const a = track(alice.client.socket({ WebSocket, reconnect: FAST }));
    const b = track(bob.client.socket({ WebSocket, reconnect: FAST }));
    await Promise.all([a.socket.connect(), b.socket.connect()]);
    // Persistent rooms outlive a restart; membership does not, so it must be re-joined.
    const kept = await a.socket.request({
      type: "room.create",
      name: "kept",
      persistent: true,
      password: "pw",
    });
    const locked = await a.socket.request({
      type: "room.create",
      name: "locked",
      persistent: true,
      password: "pw",
    });
    await b.socket.request({ type: "room.join", room: kept.room.id, password: "pw" });
    await b.socket.request({ type: "room.join", room: locked.room.id, password: "pw" });
    // A request in flight when the server goes away fails at once, not at its timeout.
    const inFlight = b.socket.request({ type: "ping" }).then(
      () => "answered",
      (e) => e.code,
    );

    const reopened = Promise.all([
      nextEvent(a.socket, "open", (e) => e.reconnected, 10_000),
      nextEvent(b.socket, "open", (e) => e.reconnected, 10_000),
    ]);
    const down = Date.now();
    await s.restart(100);
    expect(["answered", "disconnected"]).toContain(await inFlight);
    expect(a.closes[0]).toMatchObject({ code: 1001, willReconnect: true });
    expect(a.socket.connected).toBe(false);
    const [openA, openB] = await reopened;
    expect(Date.now() - down).toBeGreaterThanOrEqual(300);
    expect([openA.reconnected, openA.lostRooms, openB.lostRooms]).toEqual([true, [], []]);
    expect(a.opens).toHaveLength(2);

    // Joined again before "open": the rooms are there at once, for both users.
    const rooms = await b.socket.request({ type: "room.list" });
    expect(rooms.rooms.map((r) => r.id).sort()).toEqual([kept.room.id, locked.room.id].sort());
    const heard = nextEvent(a.socket, "broadcast");
    await b.socket.request({ type: "broadcast", room: kept.room.id, payload: "back" });
    expect((await heard).payload).toBe("back");
  });

  it("reports a room it could not join again, and forgets it", async () => {
    const { client } = await signUp(s.url);
    const c = track(client.socket({ WebSocket, reconnect: FAST }));
    await c.socket.connect();
    const kept = await c.socket.request({ type: "room.create", name: "kept", persistent: true });
    // A room that is not persistent goes with the server's shutdown, while the socket is away.
    const fleeting = await c.socket.request({ type: "room.create", name: "fleeting" });
    expect(c.socket.rooms).toEqual([kept.room.id, fleeting.room.id]);
    const reopened = nextEvent(c.socket, "open", (e) => e.reconnected, 10_000);
    await s.restart();
    const { lostRooms } = await reopened;
    expect(lostRooms.map((l) => [l.room, l.error.code])).toEqual([[fleeting.room.id, "not_found"]]);
    expect(c.socket.rooms).toEqual([kept.room.id]);
  });
});

describe("when reconnecting cannot help", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(sqliteBackend, { MESSAGE_RATE_LIMIT: "1", MESSAGE_BURST_LIMIT: "5" });
  });
  afterAll(async () => t?.close());

  it("does not reconnect after 1008 (sending far over the rate limit)", async () => {
    const { client } = await signUp(t.url);
    const c = track(client.socket({ WebSocket, reconnect: FAST }));
    await c.socket.connect();
    const closed = nextEvent(c.socket, "close");
    for (let i = 0; i < 150 && c.socket.connected; i++) c.socket.send({ type: "ping" });
    expect(await closed).toMatchObject({ code: 1008, willReconnect: false });
    await sleep(300);
    expect([c.opens.length, c.closes.length, c.socket.connected]).toEqual([1, 1, false]);
  });

  it("stops for good when the session ends and the token cannot be refreshed", async () => {
    const { client } = await signUp(t.url);
    const c = track(client.socket({ WebSocket, reconnect: FAST }));
    await c.socket.connect();
    const final = nextEvent(c.socket, "close", (e) => !e.willReconnect);
    await client.auth.logout();
    // The server closes the socket (4001); without tokens, the client gives up.
    const last = await final;
    expect([c.closes[0]?.code, c.closes[0]?.willReconnect]).toEqual([4001, true]);
    expect([last.code, last.willReconnect]).toEqual([4001, false]);
    expect(last.reason).toMatch(/Sign in first/);
    await sleep(200);
    expect(c.opens).toHaveLength(1);
  });

  it("does not reconnect with reconnect: false", async () => {
    const { client } = await signUp(t.url);
    const c = track(client.socket({ WebSocket, reconnect: false }));
    await c.socket.connect();
    const closed = nextEvent(c.socket, "close");
    await client.auth.logout();
    expect(await closed).toMatchObject({ code: 4001, willReconnect: false });
  });
});

/** A TCP relay to the server that can go silent, as a dead path or a hung server would. */
function silentProxy(target: number) {
  const pairs = new Set<[net.Socket, net.Socket]>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(target, "127.0.0.1");
    const pair: [net.Socket, net.Socket] = [inbound, outbound];
    pairs.add(pair);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    const end = () => {
      pairs.delete(pair);
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on("error", end).on("close", end);
    outbound.on("error", end).on("close", end);
  });
  return {
    listen: () =>
      new Promise<number>((r) =>
        server.listen(0, "127.0.0.1", () => r((server.address() as net.AddressInfo).port)),
      ),
    /** Existing connections stop carrying anything either way; new ones work. */
    silence() {
      for (const [inbound, outbound] of pairs) {
        inbound.unpipe(outbound);
        outbound.unpipe(inbound);
        inbound.pause();
        outbound.pause();
      }
    },
    close: () =>
      new Promise<void>((r) => {
        for (const [inbound, outbound] of pairs) {
          inbound.destroy();
          outbound.destroy();
        }
        server.close(() => r());
      }),
  };
}

describe("heartbeat", () => {
  let t: TestServer;
  const proxy = { current: undefined as ReturnType<typeof silentProxy> | undefined };
  beforeAll(async () => {
    t = await startTestServer(sqliteBackend, { HEARTBEAT_INTERVAL: "200ms" });
  });
  afterAll(async () => {
    await proxy.current?.close();
    await t?.close();
  });

  it("pings a quiet server, and reconnects when nothing comes back for 2.5 intervals", async () => {
    const relay = silentProxy(t.server.port);
    proxy.current = relay;
    const port = await relay.listen();
    const { client } = await signUp(t.url);
    const options: SocketOptions = { WebSocket, reconnect: FAST, url: `ws://127.0.0.1:${port}/v1/ws` };
    const c = track(client.socket(options));
    const pongs: unknown[] = [];
    c.socket.on("pong", (f) => pongs.push(f));
    const welcome = await c.socket.connect();
    expect(welcome.limits.heartbeat_interval_ms).toBe(200);
    // Idle, the socket provokes traffic itself: ping frames answered by pong.
    await sleep(700);
    expect(pongs.length).toBeGreaterThanOrEqual(2);
    expect(c.closes).toEqual([]);

    let lastFrameAt = 0;
    c.socket.on("frame", () => {
      lastFrameAt = Date.now();
    });
    const closedAt = nextEvent(c.socket, "close").then(() => Date.now());
    const reopened = nextEvent(c.socket, "open", (e) => e.reconnected, 5000);
    relay.silence();
    await reopened;
    expect(c.closes[0]).toEqual({ code: 1006, reason: "no traffic from the server", willReconnect: true });
    // 2.5 intervals of silence, counted from the last frame heard.
    expect((await closedAt) - lastFrameAt).toBeGreaterThanOrEqual(490);
    expect(await c.socket.request({ type: "ping" })).toMatchObject({ type: "pong" });
  });
});
