import { randomUUID } from "node:crypto";
import { uuidv7 } from "@warren/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { backends } from "./helpers/backends.js";
import { clientPool, type HubClient, hubUser } from "./helpers/hub-client.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

const RELAY_TYPES = ["offer", "answer", "candidate", "signal"] as const;

describe.each(backends())("signaling relay on $name", (backend) => {
  let t: TestServer;
  const pool = clientPool();
  beforeAll(async () => {
    t = await startTestServer(backend, { UPGRADE_RATE_LIMIT: "1000" });
  });
  afterEach(async () => pool.closeAll());
  afterAll(async () => t?.close());

  /** Two users and a room they both are in: a owns it, b joined. */
  async function pair(options: { bDevices?: string[] } = {}) {
    const a = await hubUser(t.api);
    const b = await hubUser(t.api);
    const ac = await pool.connect(t.url, a, { device: "a-laptop" });
    const bcs: HubClient[] = [];
    for (const device of options.bDevices ?? ["b-phone"]) bcs.push(await pool.connect(t.url, b, { device }));
    const created = await ac.request({ type: "room.create", name: "relay" });
    expect(created.type).toBe("result");
    const room = created.result.room.id as string;
    const bc = bcs[0] as HubClient;
    const joined = await bc.request({ type: "room.join", room });
    expect(joined.type).toBe("result");
    await ac.next((f) => f.type === "peer_joined" && f.user === b.id);
    return { a, b, ac, bc, bcs, room };
  }

  it("relays each signaling type to every device of the target, stamped with the sender", async () => {
    const { a, b, ac, bcs } = await pair({ bDevices: ["b-phone", "b-desk"] });
    for (const type of RELAY_TYPES) {
      const payload = { sdp: `v=0 ${type}`, n: 1 };
      const reply = await ac.request({ type, to: b.id, payload });
      expect(reply).toEqual({ type: "result", re: reply.re, result: { delivered: true } });
      for (const bc of bcs) {
        const got = await bc.next(type);
        expect(got).toEqual({ type, from: a.id, from_device: "a-laptop", payload });
      }
    }
    // The sender's own socket hears nothing of it.
    expect(ac.all.filter((f) => RELAY_TYPES.includes(f.type))).toEqual([]);
  });

  it("reaches only the named device with to_device", async () => {
    const { a, b, ac, bcs } = await pair({ bDevices: ["b-phone", "b-desk"] });
    const [phone, desk] = bcs as [HubClient, HubClient];
    const reply = await ac.request({ type: "candidate", to: b.id, to_device: "b-desk", payload: { c: 1 } });
    expect(reply.result).toEqual({ delivered: true });
    expect(await desk.next("candidate")).toEqual({
      type: "candidate",
      from: a.id,
      from_device: "a-laptop",
      payload: { c: 1 },
    });
    // Once the desk has it, a frame sent after to the phone overtakes nothing: the
    // phone got no candidate before its own.
    await ac.request({ type: "signal", to: b.id, to_device: "b-phone", payload: "marker" });
    await phone.next("signal");
    expect(phone.all.filter((f) => f.type === "candidate")).toEqual([]);
    expect(desk.all.filter((f) => f.type === "signal")).toEqual([]);
  });

  it("stamps its own from and from_device: a client-sent from is ignored", async () => {
    const { a, b, ac, bc } = await pair();
    const forged = randomUUID();
    const reply = await ac.request({
      type: "offer",
      to: b.id,
      from: forged,
      from_device: "not-mine",
      payload: { sdp: "x" },
    });
    expect(reply.result).toEqual({ delivered: true });
    const got = await bc.next("offer");
    expect(got.from).toBe(a.id);
    expect(got.from_device).toBe("a-laptop");
    expect(JSON.stringify(got)).not.toContain(forged);
  });

  it("passes any JSON payload through unchanged", async () => {
    const { b, ac, bc } = await pair();
    const payloads: unknown[] = [
      { deep: { nested: [1, { two: [null, true, false, "x"] }], empty: {}, list: [] } },
      'a plain string with "quotes", unicode é✓ and \\ backslash\n',
      0,
      -12.5e-3,
      1e21,
      null,
      true,
      [],
      [1, "2", [3], { four: 4 }],
      { "key with spaces": "v", "": "empty key", n: Number.MAX_SAFE_INTEGER },
    ];
    for (const payload of payloads) {
      const reply = await ac.request({ type: "signal", to: b.id, payload });
      expect(reply.result).toEqual({ delivered: true });
      const got = await bc.next("signal");
      expect(got.payload).toEqual(payload);
      expect(JSON.stringify(got.payload)).toBe(JSON.stringify(payload));
    }
  });

  it("passes on the payload JSON.parse reads, however the sender spelled the frame", async () => {
    const { a, b, ac, bc } = await pair();
    // Whitespace everywhere, escapes, "payload" inside strings and nested objects, and the
    // key twice (the second time spelled with an escape): the last one is the payload.
    ac.sendRaw(
      ` { "type" : "signal" ,\n"payload" : {"a" : "\\u00e9\\n\\"}", "n": 1.50, "payload": 2},` +
        `"to":"${b.id}", "note":"\\"payload\\":3",\t"\\u0070ayload" : [ "last", {"x":"]}"}, -0.0e0 ] }\r\n`,
    );
    expect(await bc.next("signal")).toEqual({
      type: "signal",
      from: a.id,
      from_device: "a-laptop",
      payload: ["last", { x: "]}" }, -0],
    });
  });

  it("keeps one sender's signaling in order: an offer, then its candidates, then more", async () => {
    const { b, ac, bc } = await pair();
    const sent: [string, unknown][] = [["offer", { sdp: "o" }]];
    for (let i = 0; i < 40; i++) sent.push(["candidate", { i, pad: "x".repeat((i * 37) % 500) }]);
    sent.push(["signal", { done: true }]);
    for (const [type, payload] of sent) ac.send({ type, to: b.id, payload });
    const got = [];
    for (let i = 0; i < sent.length; i++) got.push(await bc.next((f) => f.from === ac.welcome.user.id));
    expect(got.map((f) => [f.type, f.payload])).toEqual(sent);
  });

  it("relays between two devices of one user", async () => {
    const a = await hubUser(t.api);
    const one = await pool.connect(t.url, a, { device: "one" });
    const two = await pool.connect(t.url, a, { device: "two" });
    const reply = await one.request({ type: "offer", to: a.id, to_device: "two", payload: { s: 1 } });
    expect(reply.result).toEqual({ delivered: true });
    expect(await two.next("offer")).toEqual({
      type: "offer",
      from: a.id,
      from_device: "one",
      payload: { s: 1 },
    });
  });

  it("sends no reply to a relay frame without an id, and still delivers it", async () => {
    const { b, ac, bc } = await pair();
    const before = ac.all.length;
    ac.send({ type: "answer", to: b.id, payload: { sdp: "no id" } });
    expect((await bc.next("answer")).payload).toEqual({ sdp: "no id" });
    // A ping after it: its pong is the first reply the sender gets.
    const pong = await ac.request({ type: "ping" });
    expect(pong.type).toBe("pong");
    expect(ac.all.slice(before).filter((f) => f.type === "result" || f.type === "error")).toEqual([]);
  });

  it("answers peer_unavailable alike for a stranger, an unknown id, an offline co-member and an absent device", async () => {
    const { b, ac, bc } = await pair();
    const stranger = await hubUser(t.api);
    const strangerSocket = await pool.connect(t.url, stranger, { device: "s1" });
    const offline = await hubUser(t.api);
    // offline shares the room, then drops (and keeps the seat for the grace period).
    const oc = await pool.connect(t.url, offline, { device: "o1" });
    const room = (await ac.request({ type: "room.list" })).result.rooms[0].id;
    expect((await oc.request({ type: "room.join", room })).type).toBe("result");
    await oc.close();
    await ac.next((f) => f.type === "presence" && f.user === offline.id && f.status === "offline");

    const errors = [];
    for (const frame of [
      { to: stranger.id },
      { to: uuidv7() },
      { to: offline.id },
      { to: b.id, to_device: "not-connected" },
    ]) {
      for (const type of RELAY_TYPES) {
        const reply = await ac.request({ type, ...frame, payload: { secret: 1 } });
        expect(reply.type).toBe("error");
        errors.push({ code: reply.code, message: reply.message, keys: Object.keys(reply).sort() });
      }
    }
    expect(errors[0]?.code).toBe("peer_unavailable");
    for (const e of errors) expect(e).toEqual(errors[0]);
    // Nothing leaked to the stranger or to b's connected device.
    const leaked = [
      ...(await strangerSocket.collect((f) => RELAY_TYPES.includes(f.type), 100)),
      ...bc.all.filter((f) => RELAY_TYPES.includes(f.type)),
    ];
    expect(leaked).toEqual([]);
  });

  it("refuses a stranger's relay the same way in the other direction", async () => {
    const { a, ac } = await pair();
    const stranger = await hubUser(t.api);
    const sc = await pool.connect(t.url, stranger);
    const reply = await sc.request({ type: "offer", to: a.id, payload: {} });
    expect([reply.type, reply.code]).toEqual(["error", "peer_unavailable"]);
    expect(await ac.collect((f) => f.type === "offer", 100)).toEqual([]);
  });

  it("refuses relay again once the shared room is left", async () => {
    const { a, b, ac, bc, room } = await pair();
    expect((await bc.request({ type: "signal", to: a.id, payload: 1 })).result).toEqual({
      delivered: true,
    });
    await ac.next("signal");
    const left = await bc.request({ type: "room.leave", room });
    expect(left.type).toBe("result");
    for (const [from, to] of [
      [bc, a.id],
      [ac, b.id],
    ] as const) {
      const reply = await from.request({ type: "signal", to, payload: 2 });
      expect([reply.type, reply.code]).toEqual(["error", "peer_unavailable"]);
    }
    expect(await ac.collect((f) => f.type === "signal", 100)).toEqual([]);
  });

  it("rejects a relay frame with a missing or malformed field and keeps the socket", async () => {
    const { b, ac } = await pair();
    const noTo = await ac.request({ type: "offer", payload: {} });
    expect([noTo.type, noTo.code]).toEqual(["error", "invalid_request"]);
    const badTo = await ac.request({ type: "offer", to: "not-an-id", payload: {} });
    expect([badTo.type, badTo.code]).toEqual(["error", "invalid_request"]);
    const badDevice = await ac.request({ type: "offer", to: b.id, to_device: "has space", payload: {} });
    expect([badDevice.type, badDevice.code]).toEqual(["error", "invalid_request"]);
    expect((await ac.request({ type: "ping" })).type).toBe("pong");
  });
});
