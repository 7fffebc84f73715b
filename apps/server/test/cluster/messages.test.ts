import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "../chat-fixtures.js";
import { type Device, dmKit, expectVerifiable, type Person } from "../dm-fixtures.js";
import { hubUser } from "../helpers/hub-client.js";
import { PASSWORD } from "../helpers/server.js";
import { type HubClient, hubPool, none, ok, WAIT } from "./clients.js";
import { type Cluster, type Instance, skipCluster, startCluster } from "./harness.js";

/**
 * Community and network chat, direct messages, joins, kicks, bans
 * and ended sessions across three real `warren server` processes on one PostgreSQL and
 * one Redis: the change is made through one instance, its sockets sit on the others.
 */
const skip = skipCluster("cluster suite: chat, direct messages, kicks and bans");

describe.skipIf(skip)("three instances: chat, direct messages, kicks and bans", () => {
  let cluster: Cluster;
  let A: Instance;
  let B: Instance;
  let C: Instance;
  let alice: Person;
  let bob: Person;
  let carol: Person;
  let tenant: string;
  let net: string;
  const pool = hubPool();
  // alice's device a1 on A, bob's b1 on B, carol's c1 on C
  let a: HubClient;
  let b: HubClient;
  let c: HubClient;

  const dev = (p: Person, i = 0) => p.devices[i] as Device;
  const chatOf = (id: string) => (f: any) => f.type === "chat_message" && f.data?.id === id;

  beforeAll(async () => {
    cluster = await startCluster();
    [A, B, C] = cluster.instances as [Instance, Instance, Instance];
    [alice, bob, carol] = await Promise.all([
      dmKit(A.api).person(["a1", "a2"]),
      dmKit(B.api).person(["b1"]),
      dmKit(C.api).person(["c1"]),
    ]);
    tenant = await fixtures(A.api).community(alice);
    await fixtures(B.api).join(tenant, bob);
    await fixtures(C.api).join(tenant, carol);
    net = await fixtures(A.api).network(tenant, alice);
    await fixtures(B.api).joinNetwork(net, bob);
    await fixtures(C.api).joinNetwork(net, carol);
    [a, b, c] = await Promise.all([
      pool.connect(A, alice, "a1"),
      pool.connect(B, bob, "b1"),
      pool.connect(C, carol, "c1"),
    ]);
  }, 150_000);

  afterAll(async () => {
    await pool.closeAll();
    await cluster?.close();
  }, 60_000);

  it("community and network chat posted, edited and deleted through one instance reach members on the others", async () => {
    const post = ok(
      await A.api("POST", `/v1/tenants/${tenant}/messages`, {
        token: alice.token,
        body: { content: "hi from A" },
      }),
      201,
    );
    for (const x of [a, b, c])
      expect(await x.next(chatOf(post.id), WAIT)).toEqual({ type: "chat_message", data: post });

    const inNet = ok(
      await B.api("POST", `/v1/networks/${net}/messages`, {
        token: bob.token,
        body: { content: "lan on B" },
      }),
      201,
    );
    expect(inNet.network_id).toBe(net);
    for (const x of [a, c])
      expect(await x.next(chatOf(inNet.id), WAIT)).toMatchObject({ data: { content: "lan on B" } });

    ok(
      await C.api("PATCH", `/v1/messages/${inNet.id}`, {
        token: bob.token,
        body: { content: "edited on C" },
      }),
      200,
    );
    for (const x of [a, b]) {
      expect(
        await x.next((f) => f.type === "chat_message_updated" && f.data.id === inNet.id, WAIT),
      ).toMatchObject({ data: { content: "edited on C" } });
    }
    ok(await B.api("DELETE", `/v1/messages/${inNet.id}`, { token: alice.token }), 204);
    for (const x of [b, c]) {
      expect(await x.next("chat_message_deleted", WAIT)).toEqual({
        type: "chat_message_deleted",
        data: { id: inNet.id, tenant_id: tenant, network_id: net },
      });
    }
  });

  it("a join made through A puts the newcomer's socket on C on the community's topic", async () => {
    const dave = await hubUser(C.api);
    const d = await pool.connect(C, dave, "d1");
    await fixtures(A.api).join(tenant, dave);
    expect(await a.next((f) => f.type === "member_joined" && f.user?.id === dave.id, WAIT)).toMatchObject({
      tenant_id: tenant,
      network_id: null,
      role: "member",
    });
    const post = ok(
      await B.api("POST", `/v1/tenants/${tenant}/messages`, {
        token: bob.token,
        body: { content: "welcome dave" },
      }),
      201,
    );
    expect(await d.next(chatOf(post.id), WAIT)).toMatchObject({ data: { content: "welcome dave" } });
    await pool.close(d);
  });

  it("direct messages: dm.send on A reaches the recipient on B and the sender's other device on C; ack and read come back", async () => {
    const a2 = await pool.connect(C, alice, "a2");
    const env = dmKit(A.api).envelope(alice, dev(alice), bob);
    const sent = await a.request({ type: "dm.send", ...env }, WAIT);
    expect(sent, JSON.stringify(sent)).toMatchObject({
      type: "result",
      result: { client_msg_id: env.client_msg_id, duplicate: false },
    });
    const id = sent.result.id as string;

    const got = await b.next((f) => f.type === "dm" && f.id === id, WAIT);
    expect(got).toMatchObject({ from: alice.id, to: bob.id, verification: "verified" });
    expect(got.copy).toEqual(env.copies.find((x) => x.device_key_id === dev(bob).keyId));
    expectVerifiable(got, dev(alice).signer);
    const mine = await a2.next((f) => f.type === "dm" && f.id === id, WAIT);
    expect(mine.copy.device_key_id).toBe(dev(alice, 1).keyId);
    await none(a, "dm", 500);

    expect((await b.request({ type: "dm.ack", ids: [id] }, WAIT)).result).toEqual({ count: 1 });
    for (const x of [a, a2]) {
      expect(await x.next((f) => f.type === "dm.status" && f.id === id, WAIT)).toMatchObject({
        device_key_id: dev(bob).keyId,
        status: "delivered",
      });
    }
    expect((await b.request({ type: "dm.read", ids: [id] }, WAIT)).result).toEqual({ count: 1 });
    expect(
      await a.next((f) => f.type === "dm.status" && f.id === id && f.status === "read", WAIT),
    ).toBeTruthy();

    // by REST through C, from carol
    const kitC = dmKit(C.api);
    const viaRest = kitC.envelope(carol, dev(carol), bob);
    const res = ok(await kitC.post(carol, viaRest), 201);
    expect(await b.next((f) => f.type === "dm" && f.id === res.id, WAIT)).toMatchObject({
      from: carol.id,
      client_msg_id: viaRest.client_msg_id,
    });
    await none(c, "dm", 500);
    await pool.close(a2);
  });

  it("a community kick and a network ban through one instance reach the user's sockets on every instance", async () => {
    // carol's second socket on B; bob gets a device in the network
    const c2 = await pool.connect(B, carol, "c-extra");
    const device = await fixtures(B.api).device(bob, "bob-box");
    const peer = await fixtures(C.api).peer(net, bob, device.id);
    await a.next((f) => f.type === "peer_added" && f.peer?.id === peer.id, WAIT);

    ok(await A.api("DELETE", `/v1/tenants/${tenant}/members/${carol.id}`, { token: alice.token }), 204);
    const kicked = (f: any) => f.type === "member_removed" && f.user_id === carol.id && f.network_id === null;
    for (const x of [c, c2, b]) {
      expect(await x.next(kicked, WAIT)).toMatchObject({ tenant_id: tenant, reason: "kicked" });
    }
    const after = ok(
      await A.api("POST", `/v1/tenants/${tenant}/messages`, {
        token: alice.token,
        body: { content: "carol gone" },
      }),
      201,
    );
    await b.next(chatOf(after.id), WAIT);
    await none(c, chatOf(after.id), 500);
    await none(c2, chatOf(after.id), 500);

    const ban = await C.api("POST", `/v1/networks/${net}/ban`, {
      token: alice.token,
      body: { user_id: bob.id, reason: "spam" },
    });
    ok(ban, 201);
    expect(
      await b.next((f) => f.type === "member_removed" && f.user_id === bob.id && f.network_id === net, WAIT),
    ).toMatchObject({ reason: "banned", ban_reason: "spam" });
    expect(await a.next((f) => f.type === "peer_removed" && f.peer_id === peer.id, WAIT)).toMatchObject({
      network_id: net,
      user_id: bob.id,
    });
    const lan = ok(
      await A.api("POST", `/v1/networks/${net}/messages`, {
        token: alice.token,
        body: { content: "no bob" },
      }),
      201,
    );
    await a.next(chatOf(lan.id), WAIT);
    await none(b, chatOf(lan.id), 500);
    // still in the community channel
    const hello = ok(
      await C.api("POST", `/v1/tenants/${tenant}/messages`, {
        token: alice.token,
        body: { content: "bob stays" },
      }),
      201,
    );
    await b.next(chatOf(hello.id), WAIT);
    await pool.close(c2);
  });

  it("a logout through A closes that session's sockets on B and C with 4001", async () => {
    const login = ok(
      await A.api("POST", "/v1/auth/login", { body: { username: bob.username, password: PASSWORD } }),
      200,
    );
    const session = { token: login.tokens.access_token as string };
    const [onB, onC] = await Promise.all([pool.connect(B, session, "s1"), pool.connect(C, session, "s2")]);
    ok(await A.api("POST", "/v1/auth/logout", { token: session.token }), 204);
    for (const x of [onB, onC]) {
      expect(
        await Promise.race([x.closed, new Promise((r) => setTimeout(r, WAIT, "still open"))]),
      ).toMatchObject({
        code: 4001,
      });
    }
    // bob's other session is untouched
    expect((await b.request({ type: "ping" }, WAIT)).type).toBe("pong");
  });
});
