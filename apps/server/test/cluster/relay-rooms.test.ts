import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "../chat-fixtures.js";
import { type HubUser, hubUser } from "../helpers/hub-client.js";
import { fromUser, type HubClient, hubPool, none, WAIT } from "./clients.js";
import { type Cluster, eventually, type Instance, skipCluster, startCluster } from "./harness.js";

/**
 * Relay, rooms, presence, peer status and room kicks across three
 * real `warren server` processes on one PostgreSQL and one Redis. Each case has its
 * sender on one instance and its receivers on the others, so only the Redis bus and the
 * state shared in Redis can make it pass.
 */
const skip = skipCluster("cluster suite: relay, rooms, presence and peer status");

const byUser = (list: any[]) => [...list].sort((x, y) => (x.user < y.user ? -1 : 1));

describe.skipIf(skip)("three instances: relay, rooms, presence and peer status", () => {
  let cluster: Cluster;
  let A: Instance;
  let B: Instance;
  let C: Instance;
  let alice: HubUser;
  let bob: HubUser;
  let carol: HubUser;
  let dave: HubUser;
  const pool = hubPool();
  // alice on A (device a1), bob on B (b1), carol on C (c1): the room's members
  let a: HubClient;
  let b: HubClient;
  let c1: HubClient;
  let room: string;

  beforeAll(async () => {
    cluster = await startCluster();
    [A, B, C] = cluster.instances as [Instance, Instance, Instance];
    [alice, bob, carol, dave] = await Promise.all([
      hubUser(A.api),
      hubUser(B.api),
      hubUser(C.api),
      hubUser(A.api),
    ]);
  }, 150_000);

  afterAll(async () => {
    await pool.closeAll();
    await cluster?.close();
  }, 60_000);

  it("a room made on A is joined from B and C: members, peer_joined and broadcast cross instances", async () => {
    [a, b, c1] = await Promise.all([
      pool.connect(A, alice, "a1"),
      pool.connect(B, bob, "b1"),
      pool.connect(C, carol, "c1"),
    ]);
    const made = await a.request({ type: "room.create", name: "lan party" }, WAIT);
    expect(made.type, JSON.stringify(made)).toBe("result");
    room = made.result.room.id;

    const joined = await b.request({ type: "room.join", room }, WAIT);
    expect(joined.type, JSON.stringify(joined)).toBe("result");
    expect(byUser(joined.result.members).map((m) => m.user)).toEqual([alice.id, bob.id].sort());
    expect(await a.next((f) => f.type === "peer_joined" && f.user === bob.id, WAIT)).toEqual({
      type: "peer_joined",
      room,
      user: bob.id,
      username: bob.username,
    });

    // the subscribe alias, from the third instance: the members list is the shared one
    const sub = await c1.request({ type: "subscribe", room }, WAIT);
    expect(sub.type, JSON.stringify(sub)).toBe("result");
    expect(byUser(sub.result.members)).toEqual(
      byUser([
        { user: alice.id, username: alice.username, online: true },
        { user: bob.id, username: bob.username, online: true },
        { user: carol.id, username: carol.username, online: true },
      ]),
    );
    for (const x of [a, b]) await x.next((f) => f.type === "peer_joined" && f.user === carol.id, WAIT);

    const sent = await a.request({ type: "broadcast", room, payload: { text: "hello room" } }, WAIT);
    expect(sent).toMatchObject({ type: "result", result: { room } });
    for (const x of [b, c1]) {
      expect(await x.next("broadcast", WAIT)).toEqual({
        type: "broadcast",
        room,
        from: alice.id,
        from_device: "a1",
        payload: { text: "hello room" },
      });
    }
    await none(a, "broadcast");

    const list = await c1.request({ type: "room.list" }, WAIT);
    expect(list.result.rooms.map((r: any) => r.id)).toContain(room);
  });

  it("offer, answer, candidate and signal cross instances, to a device, in order; no socket anywhere is peer_unavailable", async () => {
    const sdp = { sdp: "v=0\r\no=- 46117 2 IN IP4 127.0.0.1" };
    expect(await a.request({ type: "offer", to: bob.id, payload: sdp }, WAIT)).toMatchObject({
      type: "result",
      result: { delivered: true },
    });
    expect(await b.next(fromUser("offer", alice.id), WAIT)).toEqual({
      type: "offer",
      from: alice.id,
      from_device: "a1",
      payload: sdp,
    });
    expect(await b.request({ type: "answer", to: alice.id, payload: "sdp-answer" }, WAIT)).toMatchObject({
      result: { delivered: true },
    });
    expect(await a.next(fromUser("answer", bob.id), WAIT)).toMatchObject({
      payload: "sdp-answer",
      from_device: "b1",
    });

    // carol's second device sits on A: to_device picks it, not her c1 on C
    const c2 = await pool.connect(A, carol, "c2");
    const candidate = {
      candidate: "candidate:1 1 udp 2122260223 192.0.2.7 54321 typ host",
      sdpMLineIndex: 0,
    };
    expect(
      await b.request({ type: "candidate", to: carol.id, to_device: "c2", payload: candidate }, WAIT),
    ).toMatchObject({ result: { delivered: true } });
    expect(await c2.next(fromUser("candidate", bob.id), WAIT)).toMatchObject({ payload: candidate });
    await none(c1, "candidate");

    // to your own other device on another instance; the sending socket is left out
    const a2 = await pool.connect(C, alice, "a2");
    expect(
      await a.request({ type: "signal", to: alice.id, payload: { wg: "endpoint" } }, WAIT),
    ).toMatchObject({
      result: { delivered: true },
    });
    expect(await a2.next(fromUser("signal", alice.id), WAIT)).toMatchObject({
      from_device: "a1",
      payload: { wg: "endpoint" },
    });
    await none(a, "signal");

    // one socket's frames to one peer arrive in the order sent, across Redis too
    for (let i = 0; i < 30; i++) c1.send({ type: "signal", to: bob.id, payload: { seq: i } });
    const got: number[] = [];
    for (let i = 0; i < 30; i++) got.push((await b.next(fromUser("signal", carol.id), WAIT)).payload.seq);
    expect(got).toEqual(Array.from({ length: 30 }, (_, i) => i));

    // a device with no socket on any instance, and a stranger: the same answer
    for (const frame of [
      { type: "offer", to: bob.id, to_device: "nowhere", payload: 1 },
      { type: "signal", to: dave.id, payload: 1 },
    ]) {
      expect(await a.request(frame, WAIT)).toMatchObject({ type: "error", code: "peer_unavailable" });
    }
    await pool.close(c2);
    await pool.close(a2);
  });

  it("presence: co-members on other instances see a user's last socket close and her return; sockets counted across instances", async () => {
    const q = await b.request({ type: "presence.query", users: [alice.id, carol.id, dave.id] }, WAIT);
    expect(byUser(q.result.presence).map((p: any) => [p.user, p.status])).toEqual(
      [
        [alice.id, "online"],
        [carol.id, "online"],
      ].sort((x, y) => ((x[0] as string) < (y[0] as string) ? -1 : 1)),
    );

    // a second socket of carol on A: closing the one on C is not "offline"
    const c3 = await pool.connect(A, carol, "c3");
    await a.collect("presence", 0);
    await b.collect("presence", 0);
    await pool.close(c1);
    await none(a, (f) => f.type === "presence" && f.user === carol.id);
    await pool.close(c3);
    for (const x of [a, b]) {
      expect(await x.next((f) => f.type === "presence" && f.user === carol.id, WAIT)).toMatchObject({
        status: "offline",
      });
    }
    const after = await a.request({ type: "presence.query", users: [carol.id] }, WAIT);
    expect(after.result.presence).toMatchObject([{ user: carol.id, status: "offline" }]);

    // back, on B this time (within the grace period: her seat is kept)
    c1 = await pool.connect(B, carol, "c1");
    for (const x of [a, b]) {
      expect(await x.next((f) => f.type === "presence" && f.user === carol.id, WAIT)).toMatchObject({
        status: "online",
      });
    }
  });

  it("peer status: a device online on B shows online to network members on A and C, counted across instances", async () => {
    const fa = fixtures(A.api);
    const tenant = await fa.community(alice);
    await fixtures(B.api).join(tenant, bob);
    await fixtures(C.api).join(tenant, carol);
    const net = await fa.network(tenant, alice);
    await fixtures(B.api).joinNetwork(net, bob);
    await fixtures(C.api).joinNetwork(net, carol);
    const device = await fixtures(B.api).device(bob, "bob-pc");
    const peer = await fixtures(C.api).peer(net, bob, device.id);
    const onlineVia = async (inst: Instance) => {
      const res = await inst.api("GET", `/v1/networks/${net}/peers`, { token: carol.token });
      return res.body.peers.find((p: any) => p.id === peer.id)?.online as boolean;
    };
    const isPeer = (f: any) => f.type === "peer_status" && f.peer_id === peer.id;

    const wa = await pool.connect(A, alice, "watch-a");
    const wc = await pool.connect(C, carol, "watch-c");
    const d1 = await pool.connect(B, bob, device.id);
    for (const w of [wa, wc]) {
      expect(await w.next(isPeer, WAIT)).toMatchObject({
        type: "peer_status",
        network_id: net,
        status: "online",
      });
    }
    await eventually(() => onlineVia(A), WAIT, "the peer to read online through A");

    // the same device on C too: no second "online"; closing the one on B is not "offline"
    const d2 = await pool.connect(C, bob, device.id);
    await none(wa, isPeer);
    await pool.close(d1);
    await none(wa, isPeer);
    expect(await onlineVia(C)).toBe(true);
    await pool.close(d2);
    for (const w of [wa, wc]) {
      expect(await w.next(isPeer, WAIT)).toMatchObject({ network_id: net, status: "offline" });
    }
    await eventually(async () => (await onlineVia(B)) === false, WAIT, "the peer to read offline through B");
  });

  it("a kick, rename and delete by the owner on A reach the room's sockets on B and C at once", async () => {
    const b2 = await pool.connect(C, bob, "b2");
    const kick = await a.request({ type: "room.kick", room, user: bob.id }, WAIT);
    expect(kick, JSON.stringify(kick)).toMatchObject({ type: "result", result: { room, user: bob.id } });
    for (const x of [b, b2]) {
      expect(await x.next("kicked", WAIT)).toEqual({
        type: "kicked",
        room,
        by: alice.id,
        until: kick.result.until,
      });
    }
    expect(await c1.next((f) => f.type === "peer_left" && f.user === bob.id, WAIT)).toMatchObject({
      room,
      reason: "kicked",
    });
    expect(await b2.request({ type: "broadcast", room, payload: 1 }, WAIT)).toMatchObject({
      type: "error",
      code: "not_found",
    });
    expect(await b.request({ type: "room.join", room }, WAIT)).toMatchObject({
      type: "error",
      code: "banned",
    });

    await a.request({ type: "broadcast", room, payload: "after the kick" }, WAIT);
    expect(await c1.next("broadcast", WAIT)).toMatchObject({ payload: "after the kick" });
    await none(b, "broadcast", 500);
    await none(b2, "broadcast", 500);

    expect(await a.request({ type: "room.rename", room, name: "renamed" }, WAIT)).toMatchObject({
      type: "result",
    });
    expect(await c1.next("room.renamed", WAIT)).toEqual({ type: "room.renamed", room, name: "renamed" });
    expect(await a.request({ type: "room.delete", room }, WAIT)).toMatchObject({ result: { deleted: true } });
    expect(await c1.next("room.deleted", WAIT)).toEqual({ type: "room.deleted", room, reason: "deleted" });
    await none(b, "room.deleted", 500);
  });

  it("an instance subscribes only to the topics its own sockets need, and lets them go", async () => {
    const eve = await hubUser(B.api);
    // channels naming eve's id, with how many instances listen to each
    const channels = async (): Promise<[string, number][]> => {
      const names = (await cluster.redis.cli("PUBSUB", "CHANNELS", `*${eve.id}*`))
        .split("\n")
        .filter(Boolean);
      if (names.length === 0) return [];
      const counts = (await cluster.redis.cli("PUBSUB", "NUMSUB", ...names)).split("\n").filter(Boolean);
      return names.map((n, i) => [n, Number(counts[2 * i + 1])]);
    };
    expect(await channels()).toEqual([]);
    const e = await pool.connect(B, eve, "e1");
    const held = await eventually(
      async () => {
        const now = await channels();
        return now.length > 0 ? now : undefined;
      },
      WAIT,
      "eve's channels",
    );
    // only B, where her socket is, listens to them
    for (const [name, n] of held) expect(n, name).toBe(1);
    // nobody takes every message through a pattern
    expect(Number((await cluster.redis.cli("PUBSUB", "NUMPAT")).trim())).toBe(0);
    await pool.close(e);
    await eventually(async () => (await channels()).length === 0, WAIT, "eve's channels to be let go");
  });
});
