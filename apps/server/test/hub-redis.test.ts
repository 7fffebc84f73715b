import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../src/start.js";
import { postgresBackend, type TestDatabase } from "./helpers/backends.js";
import { connectHub, type HubClient } from "./helpers/hub-client.js";
import { apiFor, configFor, register } from "./helpers/server.js";

/**
 * Two instances in one process over one PostgreSQL database and one Redis:
 * what a client on one reaches on the other. The multi-process suite (test/cluster)
 * covers faults; this one is the quick check of each path.
 */
const REDIS_URL = process.env.WARREN_TEST_REDIS || undefined;
const ready = Boolean(REDIS_URL && postgresBackend);
if (!ready) console.warn("two-instance hub runs skipped: set WARREN_TEST_REDIS and WARREN_TEST_POSTGRES");

(ready ? describe : describe.skip)("hub over Redis: two instances", () => {
  let database: TestDatabase;
  const servers: RunningServer[] = [];
  const clients: HubClient[] = [];
  const prefix = `warren-t-${randomBytes(4).toString("hex")}:`;
  const url = (i: number) => `http://127.0.0.1:${servers[i]?.port}`;

  beforeAll(async () => {
    database = await (postgresBackend as NonNullable<typeof postgresBackend>).create();
    const settings = {
      REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      JWT_SECRET: "x".repeat(40),
      MESSAGE_BURST_LIMIT: "500",
      MESSAGE_RATE_LIMIT: "500",
    };
    for (const id of ["a", "b"])
      servers.push(await startServer(configFor(database, { ...settings, INSTANCE_ID: id })));
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
    await Promise.all(servers.map((s) => s.close()));
    await database?.drop();
    const redis = new Redis(REDIS_URL as string);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  const user = async (on: number) => {
    const account = await register(apiFor(url(on)));
    const client = await connectHub(url(on), account.tokens.access_token);
    clients.push(client);
    return { id: account.user.id, client, token: account.tokens.access_token };
  };

  it("joins a room across instances, relays both ways, and tells presence", async () => {
    const alice = await user(0);
    const bob = await user(1);
    const created = await alice.client.request({ type: "room.create", name: "lobby" });
    const room = created.result.room.id;
    const joined = await bob.client.request({ type: "room.join", room });
    expect(joined.type).toBe("result");
    expect(await alice.client.next("peer_joined")).toMatchObject({ room, user: bob.id });
    const sent = await alice.client.request({ type: "offer", to: bob.id, payload: { sdp: "x" } });
    expect(sent.result).toEqual({ delivered: true });
    const offer = await bob.client.next("offer");
    expect(offer).toMatchObject({ from: alice.id, payload: { sdp: "x" } });
    await bob.client.request({ type: "answer", to: alice.id, payload: { sdp: "y" } });
    expect(await alice.client.next("answer")).toMatchObject({ from: bob.id });
    const presence = await alice.client.request({ type: "presence.query", users: [bob.id] });
    expect(presence.result.presence[0]).toMatchObject({ user: bob.id, status: "online" });
    await bob.client.close();
    expect(await alice.client.next((f) => f.type === "presence" && f.user === bob.id)).toMatchObject({
      status: "offline",
    });
  });

  it("stops relaying at once when the only shared room is left, though a yes was cached", async () => {
    const erin = await user(0);
    const frank = await user(1);
    const room = (await erin.client.request({ type: "room.create", name: "brief" })).result.room.id;
    await frank.client.request({ type: "room.join", room });
    for (let i = 0; i < 3; i++) {
      expect((await erin.client.request({ type: "signal", to: frank.id, payload: i })).result).toEqual({
        delivered: true,
      });
    }
    await erin.client.request({ type: "room.kick", room, user: frank.id });
    await erin.client.next((f) => f.type === "peer_left" && f.user === frank.id);
    const after = await erin.client.request({ type: "signal", to: frank.id, payload: "late" });
    expect(after).toMatchObject({ type: "error", code: "peer_unavailable" });
  });

  it("answers peer_unavailable for a user on neither instance, and /ready is 200 on both", async () => {
    const carol = await user(0);
    const dave = await user(1);
    const stranger = await carol.client.request({ type: "signal", to: dave.id, payload: {} });
    expect(stranger).toMatchObject({ type: "error", code: "peer_unavailable" });
    for (const i of [0, 1]) expect((await apiFor(url(i))("GET", "/ready")).status).toBe(200);
  });
});
