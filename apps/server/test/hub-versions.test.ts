import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sqliteBackend } from "./helpers/backends.js";
import type { HubUser } from "./helpers/hub-client.js";
import { x25519Public } from "./helpers/keys.js";
import { startTestServer, type TestServer } from "./helpers/server.js";
import { type Frame, socketPool, type WsClient } from "./helpers/ws.js";
import { networkFixtures } from "./networks-fixtures.js";

/**
 * Protocol versions on one server: a socket asks for version 2 with the warren.v2
 * subprotocol and gets the subject.event frame names; a socket that asks for nothing
 * (every client before version 2) speaks version 1 and gets the old names, for the same
 * events. The other hub suites connect without a version: they are the version-1 proof.
 */

const pool = socketPool();
afterEach(() => pool.closeAll());

const V2_PROTOCOLS = ["warren.v2", "warren.v1"];

/** The v2 frame is the v1 frame under its new name, field for field. */
async function expectPair(
  v2: WsClient,
  v1: WsClient,
  current: string,
  old: string,
  match: (f: Frame) => boolean = () => true,
) {
  const [a, b] = await Promise.all([
    v2.next((f) => f.type === current && match(f), 5000),
    v1.next((f) => f.type === old && match(f), 5000),
  ]);
  expect(a).toEqual({ ...b, type: current });
  if (current !== old) {
    expect(v2.count(old)).toBe(0);
    expect(v1.count(current)).toBe(0);
  }
  return a;
}

describe("protocol versions on one server", () => {
  let t: TestServer;
  let f: ReturnType<typeof networkFixtures>;
  const v2 = (u: HubUser, protocols = V2_PROTOCOLS) =>
    pool.connect(t.url, { token: u.token, via: "protocol", protocols });
  /** as deployed clients connect: Authorization header, no subprotocol */
  const v1 = (u: HubUser) => pool.connect(t.url, { token: u.token });

  beforeAll(async () => {
    t = await startTestServer(sqliteBackend);
    f = networkFixtures(t.api);
  }, 60_000);
  afterAll(() => t?.close());

  it("takes the version from Sec-WebSocket-Protocol: the newest offered, 1 when none", async () => {
    const u = await f.user();
    const both = await v2(u);
    expect([both.ws.protocol, both.welcome.protocol_version]).toEqual(["warren.v2", 2]);
    const only = await v2(u, ["warren.v2"]);
    expect([only.ws.protocol, only.welcome.protocol_version]).toEqual(["warren.v2", 2]);
    const old = await pool.connect(t.url, { token: u.token, via: "protocol" });
    expect([old.ws.protocol, old.welcome.protocol_version]).toEqual(["warren.v1", 1]);
    const none = await v1(u);
    expect([none.ws.protocol, none.welcome.protocol_version]).toEqual(["", 1]);
    // A version the server does not know is passed over for one it does.
    const future = await v2(u, ["warren.v9", "warren.v1"]);
    expect([future.ws.protocol, future.welcome.protocol_version]).toEqual(["warren.v1", 1]);
    // With the token in the Authorization header, the subprotocol still names the version.
    const header = await pool.connect(t.url, { token: u.token, protocols: ["warren.v2"] });
    expect([header.ws.protocol, header.welcome.protocol_version]).toEqual(["warren.v2", 2]);
  });

  it("sends member.joined, peer.added, chat.message and keys.changed to v2, the old names to v1", async () => {
    const owner = await f.user();
    const tenant = await f.community(owner);
    const network = await f.network(tenant, owner, { cidr: "10.201.0.0/24" });
    const [a, b] = [await v2(owner), await v1(owner)];

    const joiner = await f.user();
    f.ok(await t.api("POST", `/v1/tenants/${tenant}/join`, { token: joiner.token, body: {} }), 200, 201);
    const joined = await expectPair(a, b, "member.joined", "member_joined", (x) => x.network_id === null);
    expect(joined.user.id).toBe(joiner.id);

    await f.joined(network, joiner);
    await expectPair(a, b, "member.joined", "member_joined", (x) => x.network_id === network);
    const device = await f.device(joiner);
    const peer = await f.peer(network, joiner, device.id);
    const added = await expectPair(a, b, "peer.added", "peer_added");
    expect(added.peer.id).toBe(peer.id);

    f.ok(
      await t.api("POST", `/v1/tenants/${tenant}/messages`, { token: joiner.token, body: { content: "hi" } }),
      201,
    );
    const message = await expectPair(a, b, "chat.message", "chat_message");
    expect(message.data.content).toBe("hi");

    const key = await t.api("POST", "/v1/auth/keys", {
      token: owner.token,
      body: { kind: "x25519", public_key: x25519Public(), device: "laptop" },
    });
    expect(key.status).toBe(201);
    const changed = await expectPair(a, b, "keys.changed", "keys_changed");
    expect(changed).toMatchObject({ user: owner.id, change: "added", key: { id: key.body.id } });
  });

  it("sends room.peer_joined and room.peer_left to v2, peer_joined and peer_left to v1, in one room", async () => {
    const [owner, guest] = await Promise.all([f.user(), f.user()]);
    const a = await v2(owner);
    const b = await v1(owner);
    const created = await a.request({ type: "room.create", name: "versions" });
    expect(created.type).toBe("result");
    const room = created.result.room.id as string;
    // The owner's version-1 socket is in the room too (the user's sockets join together).
    const g = await v1(guest);
    expect((await g.request({ type: "room.join", room })).type).toBe("result");
    const joined = await expectPair(a, b, "room.peer_joined", "peer_joined");
    expect(joined).toMatchObject({ room, user: guest.id, username: guest.username });
    expect((await g.request({ type: "room.leave", room })).type).toBe("result");
    await expectPair(a, b, "room.peer_left", "peer_left");
    // Names that were dotted in version 1 stay the same for both.
    expect((await a.request({ type: "room.delete", room })).type).toBe("result");
    await expectPair(a, b, "room.deleted", "room.deleted");
  });

  it("accepts the old and the new client frame names from both versions", async () => {
    const [owner, guest] = await Promise.all([f.user(), f.user()]);
    const host = await v2(owner);
    const room = (await host.request({ type: "room.create", name: "names" })).result.room.id as string;
    for (const c of [await v2(guest), await v1(guest)]) {
      // subscribe/unsubscribe are the version-1 names of room.join/room.leave.
      for (const [join, leave] of [
        ["subscribe", "unsubscribe"],
        ["room.join", "room.leave"],
      ]) {
        const reply = await c.request({ type: join, room });
        expect(reply, JSON.stringify(reply)).toMatchObject({
          type: "result",
          result: { room: { id: room } },
        });
        expect(await c.request({ type: leave, room })).toMatchObject({ result: { room, left: true } });
      }
      expect(await c.request({ type: "presence.query", users: [owner.id] })).toMatchObject({
        type: "result",
      });
      expect((await c.request({ type: "command", name: "ping" })).type).toBe("command.result");
    }
  });
});

describe("shutdown per version", () => {
  it("tells a v2 socket server.shutdown and a v1 socket server_shutdown", async () => {
    const t = await startTestServer(sqliteBackend, { SHUTDOWN_TIMEOUT: "3s", RECONNECT_AFTER: "1200ms" });
    try {
      const u = await networkFixtures(t.api).user();
      const a = await pool.connect(t.url, { token: u.token, via: "protocol", protocols: V2_PROTOCOLS });
      const b = await pool.connect(t.url, { token: u.token });
      await t.server.close();
      await Promise.all([a.closed(), b.closed()]);
      expect(a.frames.at(-1)).toEqual({ type: "server.shutdown", reconnect_after_ms: 1200 });
      expect(b.frames.at(-1)).toEqual({ type: "server_shutdown", reconnect_after_ms: 1200 });
    } finally {
      await t.close();
    }
  });
});
