import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { sqliteBackend } from "./helpers/backends.js";
import {
  clientPool,
  type HubClient,
  type HubUser,
  hubUser,
  metricValue,
  nextId,
  sleep,
} from "./helpers/hub-client.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

/** Sends `n` pings with fresh ids at once; resolves with the replies, in send order. */
async function burst(c: HubClient, n: number): Promise<any[]> {
  const ids = Array.from({ length: n }, () => nextId());
  const replies = ids.map((id) => c.next((f) => f.re === id, 5000));
  for (const id of ids) c.send({ type: "ping", id });
  return Promise.all(replies);
}

const tally = (replies: any[]) => ({
  pong: replies.filter((r) => r.type === "pong").length,
  limited: replies.filter((r) => r.type === "error" && r.code === "rate_limited").length,
});

describe("message rate limit (20/s, burst 50)", () => {
  let t: TestServer;
  const pool = clientPool();
  beforeAll(async () => {
    t = await startTestServer(sqliteBackend, {
      UPGRADE_RATE_LIMIT: "1000",
      MESSAGE_RATE_LIMIT: "20",
      MESSAGE_BURST_LIMIT: "50",
    });
  });
  afterEach(async () => pool.closeAll());
  afterAll(async () => t?.close());

  // The first frame of each socket is part of the burst under test: no hello ping.
  const connect = (u: HubUser, device?: string) =>
    pool.connect(t.url, u, { hello: false, ...(device ? { device } : {}) });

  it("announces the limits in the welcome", async () => {
    const c = await connect(await hubUser(t.api));
    expect(c.welcome.limits).toMatchObject({ message_rate_limit: 20, message_burst_limit: 50 });
  });

  it("lets a burst of 50 pass, refuses the excess with rate_limited and keeps the socket", async () => {
    const c = await connect(await hubUser(t.api));
    const replies = await burst(c, 70);
    // The whole burst passes; a token or two may come back while the rest arrive.
    expect(replies.slice(0, 50).every((r) => r.type === "pong")).toBe(true);
    const { pong, limited } = tally(replies);
    expect(pong + limited).toBe(70);
    expect(pong).toBeGreaterThanOrEqual(50);
    expect(pong).toBeLessThanOrEqual(53);
    for (const r of replies.filter((x) => x.type === "error")) {
      expect(r).toEqual({
        type: "error",
        re: expect.any(String),
        code: "rate_limited",
        message: expect.any(String),
        retry_after_ms: expect.any(Number),
      });
      expect(r.retry_after_ms).toBeGreaterThan(0);
      expect(r.retry_after_ms).toBeLessThanOrEqual(50); // one token at 20/s
    }
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    // Tokens come back at 20/s: after 300 ms there are about 6.
    await sleep(300);
    const after = tally(await burst(c, 4));
    expect(after).toEqual({ pong: 4, limited: 0 });
    const more = tally(await burst(c, 10));
    expect(more.limited).toBeGreaterThan(0);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it("drops a refused frame: a refused broadcast reaches nobody", async () => {
    const [a, b] = [await hubUser(t.api), await hubUser(t.api)];
    const ac = await connect(a);
    const bc = await connect(b);
    const room = (await ac.request({ type: "room.create", name: "rl" })).result.room.id;
    expect((await bc.request({ type: "room.join", room })).type).toBe("result");
    const used = tally(await burst(ac, 55));
    expect(used.limited).toBeGreaterThan(0);
    const reply = await ac.request({ type: "broadcast", room, payload: "dropped" });
    expect([reply.type, reply.code]).toEqual(["error", "rate_limited"]);
    const relay = await ac.request({ type: "signal", to: b.id, payload: "dropped" });
    expect([relay.type, relay.code]).toEqual(["error", "rate_limited"]);
    expect(await bc.collect((f) => f.payload === "dropped", 200)).toEqual([]);
  });

  it("shares one bucket among a user's sockets, and not with other users", async () => {
    const [a, other] = [await hubUser(t.api), await hubUser(t.api)];
    const one = await connect(a, "one");
    const two = await connect(a, "two");
    const oc = await connect(other);
    const [r1, r2] = await Promise.all([burst(one, 35), burst(two, 35)]);
    const total = tally([...(r1 ?? []), ...(r2 ?? [])]);
    expect(total.pong + total.limited).toBe(70);
    expect(total.pong).toBeGreaterThanOrEqual(50);
    expect(total.pong).toBeLessThanOrEqual(53);
    expect(tally(r1 ?? []).pong).toBeGreaterThan(0);
    expect(tally(r2 ?? []).pong).toBeGreaterThan(0);
    // a's second socket alone is over the limit too.
    expect(tally(await burst(two, 5)).limited).toBeGreaterThan(0);
    // Another user has a bucket of their own.
    expect(tally(await burst(oc, 50))).toEqual({ pong: 50, limited: 0 });
  });

  it("counts malformed frames against the limit too", async () => {
    const c = await connect(await hubUser(t.api));
    const texts = [
      "not json",
      "[1,2]",
      "null",
      '"a string"',
      "{}",
      '{"type":"no.such.type"}',
      '{"type":"offer"}',
    ];
    const n = 70;
    for (let i = 0; i < n; i++) c.sendRaw(texts[i % texts.length] ?? "x");
    // Every frame gets one error; those past the burst are refused as rate_limited.
    const errors: any[] = [];
    for (let i = 0; i < n; i++) errors.push(await c.next("error", 5000));
    const limited = errors.filter((e) => e.code === "rate_limited").length;
    expect(limited).toBeGreaterThanOrEqual(n - 53);
    expect(errors.slice(0, 50).every((e) => e.code !== "rate_limited")).toBe(true);
    const reply = await c.request({ type: "ping" });
    expect([reply.type, reply.code]).toEqual(["error", "rate_limited"]);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it("counts refusals in signaling_rate_limit_exceeded_total", async () => {
    const before = await metricValue(t.api, "signaling_rate_limit_exceeded_total");
    const c = await connect(await hubUser(t.api));
    const { limited } = tally(await burst(c, 60));
    expect(limited).toBeGreaterThan(0);
    const after = await metricValue(t.api, "signaling_rate_limit_exceeded_total");
    expect(after - before).toBe(limited);
  });
});

describe("sustained abuse (5/s)", () => {
  let t: TestServer;
  const pool = clientPool();
  beforeAll(async () => {
    t = await startTestServer(sqliteBackend, { UPGRADE_RATE_LIMIT: "1000", MESSAGE_RATE_LIMIT: "5" });
  });
  afterEach(async () => pool.closeAll());
  afterAll(async () => t?.close());

  it("closes with 1008 a socket that keeps sending far over the limit; a merely busy one stays", async () => {
    const abuser = await pool.connect(t.url, await hubUser(t.api));
    const busy = await pool.connect(t.url, await hubUser(t.api));
    let closedAt = 0;
    const closed = abuser.closed.then((c) => {
      closedAt = Date.now();
      return c;
    });
    const start = Date.now();
    let sent = 0;
    let busySent = 0;
    // About 80 frames/s (16× the limit) from the abuser and 15/s (3×) from the busy
    // client, for at most 12 s.
    while (Date.now() - start < 12_000 && abuser.ws.readyState === WebSocket.OPEN) {
      for (let i = 0; i < 2; i++) {
        abuser.ws.send(JSON.stringify({ type: "ping", id: `a${sent}` }));
        sent += 1;
      }
      if (sent % 4 === 0 && busy.ws.readyState === WebSocket.OPEN) {
        busy.ws.send(JSON.stringify({ type: "ping", id: `b${busySent}` }));
        busySent += 1;
      }
      await sleep(25);
    }
    const result = await Promise.race([closed, sleep(2000).then(() => undefined)]);
    expect(result, `abuser still open after ${sent} frames in ${Date.now() - start} ms`).toBeDefined();
    expect(result?.code).toBe(1008);
    // It was told first: rate_limited errors came before the close.
    expect(abuser.all.some((f) => f.type === "error" && f.code === "rate_limited")).toBe(true);
    // Not at once: the first refusals start the count.
    expect(closedAt - start).toBeGreaterThan(3000);

    expect(busy.ws.readyState).toBe(WebSocket.OPEN);
    expect((await busy.request({ type: "ping" })).type).toMatch(/^(pong|error)$/);

    expect(await metricValue(t.api, "signaling_rate_limit_exceeded_total")).toBeGreaterThan(0);
    expect(await metricValue(t.api, "signaling_connections_closed_total", { reason: "abuse" })).toBe(1);
  }, 25_000);
});
