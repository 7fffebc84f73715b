import { createSocket } from "node:dgram";
import { decodePacketFrame, encodePacketFrame, PACKET_KIND, REFUSAL } from "@warren/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sqliteBackend } from "./helpers/backends.js";
import { clientPool, type HubClient, hubUser, metricValue } from "./helpers/hub-client.js";
import { startTestServer, type TestServer } from "./helpers/server.js";
import { networkFixtures } from "./networks-fixtures.js";

/** The binary frames a socket received, decoded, in order. */
function packetsOf(c: HubClient) {
  const got: Buffer[] = [];
  c.ws.on("message", (data, isBinary) => {
    if (isBinary) got.push(data as Buffer);
  });
  const next = async (kind: number, timeoutMs = 3000) => {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const i = got.findIndex((b) => b[0] === kind);
      if (i >= 0) return got.splice(i, 1)[0] as Buffer;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no binary frame of kind ${kind} within ${timeoutMs} ms`);
  };
  return { got, next };
}

describe("packet relay: WireGuard packets between devices that share a network", () => {
  let t: TestServer;
  let f: ReturnType<typeof networkFixtures>;
  const pool = clientPool();
  let subnet = 0;

  beforeAll(async () => {
    t = await startTestServer(sqliteBackend, { STUN_PORT: "", RELAY_RATE_LIMIT: "64KiB" });
    f = networkFixtures(t.api);
  }, 60_000);
  afterEach(() => pool.closeAll());
  afterAll(() => t.close());

  /** Two users, each with a device in one network, both connected with HELLO sent. */
  const pair = async () => {
    const [owner, other] = await Promise.all([hubUser(t.api), hubUser(t.api)]);
    const tenant = await f.community(owner);
    await f.member(tenant, other, "member", owner);
    const net = await f.network(tenant, owner, { cidr: `10.${60 + ++subnet}.0.0/24` });
    await f.joined(net, other);
    const d1 = await f.device(owner, "a");
    const d2 = await f.device(other, "b");
    await f.peer(net, owner, d1.id);
    await f.peer(net, other, d2.id);
    const c1 = await pool.connect(t.url, owner, { device: d1.id });
    const c2 = await pool.connect(t.url, other, { device: d2.id });
    const p1 = packetsOf(c1);
    const p2 = packetsOf(c2);
    c1.ws.send(Uint8Array.of(PACKET_KIND.hello), { binary: true });
    c2.ws.send(Uint8Array.of(PACKET_KIND.hello), { binary: true });
    await p1.next(PACKET_KIND.info);
    await p2.next(PACKET_KIND.info);
    return { owner, other, net, d1, d2, c1, c2, p1, p2 };
  };

  it("answers HELLO with this instance's name and carries packets both ways, addressed by device", async () => {
    const s = await pair();
    const packet = Buffer.from("\x04\x00\x00\x00 ciphertext");
    s.c1.ws.send(encodePacketFrame(PACKET_KIND.send, s.d2.id, packet), { binary: true });
    const got = decodePacketFrame(await s.p2.next(PACKET_KIND.recv));
    expect(got?.device).toBe(s.d1.id);
    expect(Buffer.from(got?.body ?? []).equals(packet)).toBe(true);
    s.c2.ws.send(encodePacketFrame(PACKET_KIND.send, s.d1.id, Buffer.from("back")), { binary: true });
    expect(Buffer.from(decodePacketFrame(await s.p1.next(PACKET_KIND.recv))?.body ?? []).toString()).toBe(
      "back",
    );
    expect(await metricValue(t.api, "warren_relay_packets_total")).toBeGreaterThanOrEqual(2);
    expect(await metricValue(t.api, "warren_relay_active_pairs")).toBeGreaterThanOrEqual(2);
  });

  it("refuses a device that shares no network with the target", async () => {
    const s = await pair();
    const stranger = await hubUser(t.api);
    const d3 = await f.device(stranger, "c");
    const c3 = await pool.connect(t.url, stranger, { device: d3.id });
    const p3 = packetsOf(c3);
    c3.ws.send(encodePacketFrame(PACKET_KIND.send, s.d1.id, Buffer.from("hi")), { binary: true });
    const refused = decodePacketFrame(await p3.next(PACKET_KIND.refused));
    expect(refused?.body[0]).toBe(REFUSAL.not_allowed);
    // A device id claimed on the socket but owned by someone else is refused too.
    const liar = await pool.connect(t.url, stranger, { device: s.d2.id });
    const pl = packetsOf(liar);
    liar.ws.send(encodePacketFrame(PACKET_KIND.send, s.d1.id, Buffer.from("hi")), { binary: true });
    expect(decodePacketFrame(await pl.next(PACKET_KIND.refused))?.body[0]).toBe(REFUSAL.not_allowed);
    await new Promise((r) => setTimeout(r, 200));
    expect(s.p1.got.filter((b) => b[0] === PACKET_KIND.recv)).toHaveLength(0);
  });

  it("a kicked device loses the relay with its next packet", async () => {
    const s = await pair();
    s.c2.ws.send(encodePacketFrame(PACKET_KIND.send, s.d1.id, Buffer.from("one")), { binary: true });
    await s.p1.next(PACKET_KIND.recv);
    const kicked = await t.api("POST", `/v1/networks/${s.net}/kick`, {
      token: s.owner.token,
      body: { user_id: s.other.id },
    });
    expect(kicked.status).toBe(204);
    await new Promise((r) => setTimeout(r, 100));
    s.c2.ws.send(encodePacketFrame(PACKET_KIND.send, s.d1.id, Buffer.from("two")), { binary: true });
    expect(decodePacketFrame(await s.p2.next(PACKET_KIND.refused))?.body[0]).toBe(REFUSAL.not_allowed);
    expect(s.p1.got.filter((b) => b[0] === PACKET_KIND.recv)).toHaveLength(0);
  });

  it("enforces the per-device byte rate and says so", async () => {
    const s = await pair();
    const big = Buffer.alloc(1400);
    for (let i = 0; i < 200; i++)
      s.c1.ws.send(encodePacketFrame(PACKET_KIND.send, s.d2.id, big), { binary: true });
    const refused = decodePacketFrame(await s.p1.next(PACKET_KIND.refused));
    expect(refused?.body[0]).toBe(REFUSAL.rate_limited);
    expect(
      await metricValue(t.api, "warren_relay_refusals_total", { reason: "rate_limited" }),
    ).toBeGreaterThan(0);
  });

  it("still closes other binary frames with 1003", async () => {
    const s = await pair();
    s.c1.ws.send(Buffer.from('{"type":"ping"}'), { binary: true });
    expect((await s.c1.closed).code).toBe(1003);
  });
});

describe("STUN: endpoint discovery", () => {
  let t: TestServer;
  let port: number;
  beforeAll(async () => {
    t = await startTestServer(sqliteBackend, { STUN_PORT: "0", STUN_ALT_PORT: "0", STUN_RATE_LIMIT: "5" });
    port = t.server.stun?.ports()[0] ?? 0;
  }, 60_000);
  afterAll(() => t.close());

  const request = (size: number) => {
    const b = Buffer.alloc(size);
    b.writeUInt16BE(0x0001, 0);
    b.writeUInt16BE(size - 20, 2);
    b.writeUInt32BE(0x2112a442, 4);
    b.fill(7, 8, 20);
    if (size > 20) {
      b.writeUInt16BE(0x8022, 20); // SOFTWARE
      b.writeUInt16BE(size - 24, 22);
    }
    return b;
  };

  const ask = async (msgs: Buffer[], toPort = port) => {
    const s = createSocket("udp4");
    const got: Buffer[] = [];
    s.on("message", (m) => got.push(m));
    await new Promise<void>((r) => s.bind(0, "127.0.0.1", r));
    for (const m of msgs) s.send(m, toPort, "127.0.0.1");
    await new Promise((r) => setTimeout(r, 300));
    const local = s.address().port;
    s.close();
    return { got, local };
  };

  it("answers a padded Binding request with XOR-MAPPED-ADDRESS, on both ports, never larger than asked", async () => {
    expect(t.server.stun?.ports()).toHaveLength(2);
    for (const p of t.server.stun?.ports() ?? []) {
      const { got, local } = await ask([request(48)], p);
      expect(got).toHaveLength(1);
      const r = got[0] as Buffer;
      expect(r.length).toBeLessThanOrEqual(48);
      expect(r.readUInt16BE(0)).toBe(0x0101);
      expect(r.subarray(8, 20).equals(Buffer.alloc(12, 7))).toBe(true);
      expect(r.readUInt16BE(20)).toBe(0x0020);
      expect(r.readUInt16BE(26) ^ 0x2112).toBe(local);
      expect(
        [...r.subarray(28, 32)].map((b, i) => b ^ ((0x2112a442 >>> (24 - 8 * i)) & 0xff)).join("."),
      ).toBe("127.0.0.1");
    }
  });

  it("drops a request too short to hold the answer, and garbage", async () => {
    const { got } = await ask([request(20), Buffer.from("hello there, not stun at all....")]);
    expect(got).toHaveLength(0);
  });

  it("rate-limits per source address", async () => {
    const { got } = await ask(Array.from({ length: 30 }, () => request(48)));
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThanOrEqual(11);
  });
});
