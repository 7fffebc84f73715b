import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import net from "node:net";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Bus, type BusEvent, BusUnavailableError } from "./bus.js";
import { createRedisBus } from "./redis-bus.js";

/**
 * Two buses on one private redis-server behave as two instances. The server
 * is this suite's own, so stopping it for the outage cases disturbs nobody else.
 */
const enabled = Boolean(process.env.WARREN_TEST_REDIS);
if (!enabled) console.warn("Redis bus instance runs skipped: set WARREN_TEST_REDIS to include them");

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

const eventually = async (check: () => void, ms = 10_000) => {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return check();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
};

(enabled ? describe : describe.skip)("redis bus between instances", () => {
  let port = 0;
  let server: ChildProcess | undefined;
  const clients: Redis[] = [];
  const buses: Bus[] = [];

  const startRedis = async () => {
    server = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      {
        stdio: "ignore",
      },
    );
    const probe = new Redis(port, "127.0.0.1", { retryStrategy: () => 50 });
    probe.on("error", () => {});
    await eventually(() => expect(probe.status).toBe("ready"));
    probe.disconnect();
  };
  const stopRedis = async () => {
    const s = server;
    if (!s || s.exitCode !== null) return;
    const gone = new Promise((r) => s.once("exit", r));
    s.kill("SIGKILL");
    await gone;
  };
  const instance = async (id: string, prefix: string) => {
    const redis = new Redis(port, "127.0.0.1", {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: () => 100,
    });
    redis.on("error", () => {});
    clients.push(redis);
    await eventually(() => expect(redis.status).toBe("ready"));
    const bus = createRedisBus({ redis, prefix, instanceId: id, resendAfterMs: 1000 });
    buses.push(bus);
    return bus;
  };
  const frame = (text: string): BusEvent => ({ kind: "frame", frame: text, type: "x" });
  const texts = (events: BusEvent[]) => events.map((e) => (e as { frame: string }).frame);

  beforeAll(async () => {
    port = await freePort();
    await startRedis();
  });
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.close()));
    for (const c of clients.splice(0)) c.disconnect();
    if (!server || server.exitCode !== null) await startRedis();
  });
  afterAll(stopRedis);

  it("carries events between instances, counts instances, and hands an instance its own event once", async () => {
    const prefix = `t${randomBytes(3).toString("hex")}:`;
    const a = await instance("a", prefix);
    const b = await instance("b", prefix);
    const atA: BusEvent[] = [];
    const atB: BusEvent[] = [];
    a.subscribe("user:1", (_t, e) => atA.push(e));
    b.subscribe("user:1", (_t, e) => atB.push(e));
    await Promise.all([a.settled(), b.settled()]);
    expect(await a.publish("user:1", frame("one"))).toBe(2);
    await eventually(() => expect(texts(atB)).toEqual(["one"]));
    await new Promise((r) => setTimeout(r, 100));
    expect(texts(atA)).toEqual(["one"]);
    // A topic only B holds: A still reaches it, and 0 once B lets go.
    const onRoom = (_t: string, e: BusEvent) => atB.push(e);
    b.subscribe("room:r", onRoom);
    await b.settled();
    expect(await a.publish("room:r", frame("two"))).toBe(1);
    await eventually(() => expect(texts(atB)).toEqual(["one", "two"]));
    b.unsubscribe("room:r", onRoom);
    await b.settled();
    expect(await a.publish("room:r", frame("three"))).toBe(0);
    await new Promise((r) => setTimeout(r, 100));
    expect(texts(atB)).toEqual(["one", "two"]);
  });

  it("sends a tick's events for one channel as one message, in order, and counts each", async () => {
    const prefix = `t${randomBytes(3).toString("hex")}:`;
    const a = await instance("a", prefix);
    const b = await instance("b", prefix);
    const got: string[] = [];
    b.subscribe("user:x", (t, e) => got.push(`${t}/${(e as { frame: string }).frame}`));
    b.subscribe("user:y", (t, e) => got.push(`${t}/${(e as { frame: string }).frame}`));
    await b.settled();
    const sent: string[] = [];
    const counts: Promise<number>[] = [];
    for (let i = 0; i < 40; i++) {
      const topic = i % 10 < 7 ? "user:x" : "user:y";
      // as every frame is made: JSON.stringify escapes the separator and newlines
      const text = JSON.stringify({ n: i, s: "a\u001eb\nc" });
      sent.push(`${topic}/${text}`);
      counts.push(Promise.resolve(a.publish(topic, frame(text))));
    }
    expect(await Promise.all(counts)).toEqual(Array(40).fill(1));
    await eventually(() => expect(got).toEqual(sent));
  });

  it("sends a turn's batches for several channels to Redis as one command, and one batch as a PUBLISH", async () => {
    const prefix = `t${randomBytes(3).toString("hex")}:`;
    const a = await instance("a", prefix);
    const b = await instance("b", prefix);
    const got: string[] = [];
    for (const t of ["user:p", "user:q", "user:r"])
      b.subscribe(t, (topic, e) => got.push(`${topic}/${texts([e])[0]}`));
    await b.settled();
    const stats = async () => {
      const info = String(await (clients[0] as Redis).info("commandstats"));
      const calls = (name: string) =>
        Number(new RegExp(`^cmdstat_${name}:calls=(\\d+)`, "m").exec(info)?.[1] ?? 0);
      return { eval: calls("eval"), publish: calls("publish") };
    };
    const since = async (before: { eval: number; publish: number }) => {
      const now = await stats();
      return { eval: now.eval - before.eval, publish: now.publish - before.publish };
    };
    let before = await stats();
    const counts = ["user:p", "user:q", "user:p", "user:r"].map((t, i) => a.publish(t, frame(String(i))));
    expect(await Promise.all(counts)).toEqual([1, 1, 1, 1]);
    await eventually(() => expect(got).toEqual(["user:p/0", "user:q/1", "user:p/2", "user:r/3"]));
    // four batches (a new channel starts one), one command from the instance
    expect(await since(before)).toEqual({ eval: 1, publish: 4 });
    before = await stats();
    expect(await Promise.all([a.publish("user:q", frame("4")), a.publish("user:q", frame("5"))])).toEqual([
      1, 1,
    ]);
    await eventually(() => expect(got.slice(4)).toEqual(["user:q/4", "user:q/5"]));
    expect(await since(before)).toEqual({ eval: 0, publish: 1 });
  });

  it("keeps local delivery through an outage, refuses ephemeral events for others, and sends kept ones when Redis is back", async () => {
    const prefix = `t${randomBytes(3).toString("hex")}:`;
    const a = await instance("a", prefix);
    const b = await instance("b", prefix);
    const atA: BusEvent[] = [];
    const atB: BusEvent[] = [];
    let restored = 0;
    b.onRestored(() => {
      restored += 1;
    });
    a.subscribe("user:local", (_t, e) => atA.push(e));
    b.subscribe("user:far", (_t, e) => atB.push(e));
    await Promise.all([a.settled(), b.settled()]);

    await stopRedis();
    await eventually(() => expect(a.healthy()).toBe(false));
    expect(await a.publish("user:local", frame("local"), { ephemeral: true })).toBe(1);
    expect(texts(atA)).toEqual(["local"]);
    await expect(a.publish("user:far", frame("signal"), { ephemeral: true })).rejects.toBeInstanceOf(
      BusUnavailableError,
    );
    for (let i = 0; i < 3; i++) expect(await a.publish("user:far", frame(`chat${i}`))).toBe(0);

    await startRedis();
    await eventually(() => expect(a.healthy() && b.healthy()).toBe(true), 20_000);
    await eventually(() => expect(texts(atB)).toEqual(["chat0", "chat1", "chat2"]), 20_000);
    expect(restored).toBe(1);
    // B resubscribed by itself: new events reach it again.
    await b.settled();
    await a.publish("user:far", frame("after"));
    await eventually(() => expect(texts(atB)).toContain("after"));
  });
});
