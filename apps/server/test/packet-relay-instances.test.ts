import { randomBytes } from "node:crypto";
import { decodePacketFrame, encodePacketFrame, PACKET_KIND, REFUSAL } from "@warren/protocol";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type RunningServer, startServer } from "../src/start.js";
import { postgresBackend, type TestDatabase } from "./helpers/backends.js";
import { type HubUser, hubUser } from "./helpers/hub-client.js";
import { apiFor, configFor } from "./helpers/server.js";
import { networkFixtures } from "./networks-fixtures.js";

/**
 * The packet relay with two instances (PostgreSQL and Redis): a device's home relay is
 * the instance its socket is on; a peer on the other instance is told `not_here` there
 * and reaches it by sending on a socket of its own to that instance. No packet crosses
 * Redis.
 */
const REDIS_URL = process.env.WARREN_TEST_REDIS || undefined;
const ready = Boolean(REDIS_URL && postgresBackend);
if (!ready) console.warn("two-instance packet relay skipped: set WARREN_TEST_REDIS and WARREN_TEST_POSTGRES");

/** A raw socket as a device: binary frames kept in order. */
async function deviceSocket(url: string, token: string, device: string) {
  const ws = new WebSocket(`${url.replace("http", "ws")}/v1/ws?device=${device}`, ["warren.v1"], {
    headers: { authorization: `Bearer ${token}` },
  });
  const got: Buffer[] = [];
  ws.on("message", (data, isBinary) => {
    if (isBinary) got.push(data as Buffer);
  });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  ws.send(JSON.stringify({ type: "ping" }));
  const next = async (kind: number) => {
    for (let i = 0; i < 300; i++) {
      const at = got.findIndex((b) => b[0] === kind);
      if (at >= 0) return got.splice(at, 1)[0] as Buffer;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no binary frame of kind ${kind}`);
  };
  return { ws, got, next };
}

(ready ? describe : describe.skip)("packet relay across two instances", () => {
  let database: TestDatabase;
  const servers: RunningServer[] = [];
  const sockets: WebSocket[] = [];
  const prefix = `warren-t-${randomBytes(4).toString("hex")}:`;
  const url = (i: number) => `http://127.0.0.1:${servers[i]?.port}`;

  beforeAll(async () => {
    database = await (postgresBackend as NonNullable<typeof postgresBackend>).create();
    const settings = { REDIS_URL, REDIS_KEY_PREFIX: prefix, JWT_SECRET: "x".repeat(40), STUN_PORT: "" };
    for (const id of ["a", "b"])
      servers.push(await startServer(configFor(database, { ...settings, INSTANCE_ID: id })));
  });
  afterAll(async () => {
    for (const ws of sockets) ws.close();
    await Promise.all(servers.map((s) => s.close()));
    await database?.drop();
    const redis = new Redis(REDIS_URL as string);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it("home relays: not_here on the wrong instance, delivered when sent to the receiver's instance", async () => {
    const f = networkFixtures(apiFor(url(0)));
    const [owner, other] = (await Promise.all([hubUser(apiFor(url(0))), hubUser(apiFor(url(0)))])) as [
      HubUser,
      HubUser,
    ];
    const tenant = await f.community(owner);
    await f.member(tenant, other, "member", owner);
    const net = await f.network(tenant, owner, { cidr: "10.72.0.0/24" });
    await f.joined(net, other);
    const d1 = await f.device(owner, "a");
    const d2 = await f.device(other, "b");
    await f.peer(net, owner, d1.id);
    await f.peer(net, other, d2.id);

    const a = await deviceSocket(url(0), owner.token, d1.id);
    const b = await deviceSocket(url(1), other.token, d2.id);
    sockets.push(a.ws, b.ws);
    a.ws.send(Uint8Array.of(PACKET_KIND.hello));
    b.ws.send(Uint8Array.of(PACKET_KIND.hello));
    const infoA = JSON.parse((await a.next(PACKET_KIND.info)).subarray(1).toString());
    const infoB = JSON.parse((await b.next(PACKET_KIND.info)).subarray(1).toString());
    expect([infoA.instance, infoB.instance]).toEqual(["a", "b"]);

    // On a's home instance, b is not here: the packet does not travel the bus.
    a.ws.send(encodePacketFrame(PACKET_KIND.send, d2.id, Buffer.from("hello")));
    expect(decodePacketFrame(await a.next(PACKET_KIND.refused))?.body[0]).toBe(REFUSAL.not_here);

    // a sends on a socket of its own to b's home instance: delivered, stamped with a's device.
    const away = await deviceSocket(url(1), owner.token, d1.id);
    sockets.push(away.ws);
    away.ws.send(encodePacketFrame(PACKET_KIND.send, d2.id, Buffer.from("hello")));
    const got = decodePacketFrame(await b.next(PACKET_KIND.recv));
    expect(got?.device).toBe(d1.id);
    expect(Buffer.from(got?.body ?? []).toString()).toBe("hello");
    // And b answers on its own socket, to a's home.
    b.ws.send(encodePacketFrame(PACKET_KIND.send, d1.id, Buffer.from("back")));
    expect(decodePacketFrame(await b.next(PACKET_KIND.refused))?.body[0]).toBe(REFUSAL.not_here);
  });
});
