import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sqliteBackend } from "../../../apps/server/test/helpers/backends.js";
import { startTestServer, type TestServer } from "../../../apps/server/test/helpers/server.js";
import { type Client, WarrenError } from "../src/index.js";
import { deviceOf, friends, nothingWithin, record, take, until } from "./direct-fixtures.js";

/**
 * client.direct against a real server: every message is sealed by the SDK,
 * stored and forwarded by the server as ciphertext, and opened and checked by the SDK.
 */
describe("sdk direct messages", () => {
  let t: TestServer;
  const clients: Client[] = [];
  const track = (c: Client) => {
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    t = await startTestServer(sqliteBackend);
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.direct.close();
  });
  afterAll(async () => t?.close());

  it("fans out to every device: two of the recipient's and the sender's other one each decrypt", async () => {
    const [alice, bob] = await friends(t.url, 2);
    const [a1, a2, b1, b2] = [
      track(alice.client),
      track(await alice.another()),
      track(bob.client),
      track(await bob.another()),
    ];
    await deviceOf(a1, "alice-laptop");
    await deviceOf(a2, "alice-phone");
    await deviceOf(b1, "bob-laptop");
    await deviceOf(b2, "bob-phone");
    const statuses = record(a1, "status");

    const sent = await a1.direct.send(bob.user.id, "hello from the laptop ✓");
    expect(sent.client_msg_id).toMatch(/^[0-9a-f]{32}$/);

    for (const device of [b1, b2]) {
      const [m] = await take(device, 1);
      expect(m).toMatchObject({
        id: sent.id,
        from: alice.user.id,
        to: bob.user.id,
        text: "hello from the laptop ✓",
        sent_at: sent.sent_at,
        client_msg_id: sent.client_msg_id,
        verification: "verified",
        fromMe: false,
        device: "alice-laptop",
      });
    }
    const [mine] = await take(a2, 1);
    expect(mine).toMatchObject({ id: sent.id, from: alice.user.id, to: bob.user.id, fromMe: true });
    expect(mine?.text).toBe("hello from the laptop ✓");
    await nothingWithin(a1);

    // Both of bob's devices acknowledged: alice hears "delivered" for each of their keys.
    const bobKeys = (await a1.direct.keys(bob.user.id)).keys.filter((k) => k.kind === "x25519");
    await until(() => statuses.filter((s) => s.status === "delivered").length >= 2, 5000, "delivered");
    expect(new Set(statuses.map((s) => s.device_key_id))).toEqual(new Set(bobKeys.map((k) => k.id)));
    await b1.direct.markRead([sent.id]);
    await until(() => statuses.some((s) => s.status === "read"), 5000, "read");
    expect(statuses.find((s) => s.status === "read")).toMatchObject({
      id: sent.id,
      device_key_id: b1.direct.device?.device_key_id,
    });

    // And back: bob's reply reaches both of alice's devices, and his other one.
    const reply = await b2.direct.send(alice.user.id, "hi alice");
    for (const device of [a1, a2]) expect((await take(device, 1))[0]?.text).toBe("hi alice");
    expect((await take(b1, 1))[0]).toMatchObject({ id: reply.id, fromMe: true, text: "hi alice" });
  });

  it("stores and forwards to a device that was offline, oldest first, and reuses its keys", async () => {
    const [alice, bob] = await friends(t.url, 2);
    const a = track(alice.client);
    const b = track(bob.client);
    await deviceOf(a, "a");
    const { store } = await deviceOf(b, "b", { connect: false });
    const texts = ["one", "two", "three"];
    const sent = [];
    for (const text of texts) sent.push(await a.direct.send(bob.user.id, text));

    await b.direct.socket?.connect();
    const got = await take(b, 3);
    expect(got.map((m) => [m.id, m.text])).toEqual(sent.map((s, i) => [s.id, texts[i]]));
    // Acknowledged: a new session of the same device (same stored keys) gets nothing again.
    await new Promise((r) => setTimeout(r, 200));
    const before = b.direct.device;
    b.direct.close();
    const again = track(await bob.another());
    const { info } = await deviceOf(again, "b", { store });
    expect([info.signing_key_id, info.device_key_id]).toEqual([
      before?.signing_key_id,
      before?.device_key_id,
    ]);
    await nothingWithin(again, 500);
    const history = await again.direct.history(alice.user.id);
    expect(history.messages.map((m) => [m.text, m.status])).toEqual([
      ["three", "delivered"],
      ["two", "delivered"],
      ["one", "delivered"],
    ]);
  });

  it("refuses a user whose keys changed until trust(), then sends to the new device too", async () => {
    const [alice, bob] = await friends(t.url, 2);
    const a = track(alice.client);
    const b1 = track(bob.client);
    await deviceOf(a, "a");
    await deviceOf(b1, "b1");
    const changes = record(a, "key_change");
    await a.direct.send(bob.user.id, "first");
    expect((await take(b1, 1))[0]?.text).toBe("first");

    // Bob adds a device. Alice's cached keys lack it: the server says stale, the SDK
    // fetches again, sees a key it never trusted, tells the app and refuses.
    const b2 = track(await bob.another());
    await deviceOf(b2, "b2");
    const refused = await a.direct.send(bob.user.id, "second").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WarrenError);
    expect((refused as WarrenError).code).toBe("untrusted_keys");
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ user: bob.user.id, removed: [], needsTrust: true });
    expect(changes[0]?.added.map((k) => [k.device, k.kind]).sort()).toEqual([
      ["b2", "ed25519"],
      ["b2", "x25519"],
    ]);
    // Still refused, without asking again.
    expect(await a.direct.send(bob.user.id, "again").catch((e: WarrenError) => e.code)).toBe(
      "untrusted_keys",
    );
    expect(changes).toHaveLength(1);
    await nothingWithin(b1);

    await a.direct.trust(bob.user.id);
    const sent = await a.direct.send(bob.user.id, "second");
    for (const device of [b1, b2])
      expect((await take(device, 1))[0]).toMatchObject({ id: sent.id, text: "second" });

    // A key replaced on a device (its secret lost) is a change too.
    b1.direct.close();
    const b1again = track(await bob.another());
    await deviceOf(b1again, "b1");
    const keys = await a.direct.keys(bob.user.id, { fresh: true });
    expect(keys.trusted).toBe(false);
    expect(changes).toHaveLength(2);
    expect(changes[1]?.added.map((k) => k.device)).toEqual(["b1", "b1"]);
    expect(changes[1]?.removed.map((k) => k.device)).toEqual(["b1", "b1"]);
    expect(await a.direct.send(bob.user.id, "x").catch((e: WarrenError) => e.code)).toBe("untrusted_keys");
  });

  it("hears of a contact's new device from the server at once (keys_changed), before sending anything", async () => {
    const [alice, bob] = await friends(t.url, 2);
    const a = track(alice.client);
    const b1 = track(bob.client);
    await deviceOf(a, "a");
    await deviceOf(b1, "b1");
    // Alice has seen (and so trusts) Bob's keys.
    expect((await a.direct.keys(bob.user.id)).trusted).toBe(true);
    const changes = record(a, "key_change");

    const b2 = track(await bob.another());
    await deviceOf(b2, "b2");
    await until(() => changes.length > 0, 5000, "key_change from keys_changed");
    expect(changes[0]).toMatchObject({ user: bob.user.id, needsTrust: true });
    expect(changes[0]?.added.map((k) => k.device)).toContain("b2");
    expect(await a.direct.send(bob.user.id, "x").catch((e: WarrenError) => e.code)).toBe("untrusted_keys");
  });

  it("gives a device newly added to my own account no copies until I trust it", async () => {
    const [alice, bob] = await friends(t.url, 2);
    const a1 = track(alice.client);
    const b = track(bob.client);
    await deviceOf(a1, "a1");
    await deviceOf(b, "b");
    const changes = record(a1, "key_change");
    await a1.direct.send(bob.user.id, "before");
    await take(b, 1);

    const a2 = track(await alice.another());
    await deviceOf(a2, "a2");
    await a1.direct.keys(alice.user.id, { fresh: true });
    expect(changes.map((c) => [c.user, c.needsTrust, c.added.map((k) => k.device)])).toEqual([
      [alice.user.id, true, ["a2", "a2"]],
    ]);
    // Messaging bob goes on; the new device is left out.
    await a1.direct.send(bob.user.id, "while unknown");
    expect((await take(b, 1))[0]?.text).toBe("while unknown");
    await nothingWithin(a2);
    await a1.direct.trust(alice.user.id);
    await a1.direct.send(bob.user.id, "now known");
    expect((await take(a2, 1))[0]).toMatchObject({ text: "now known", fromMe: true });
  });

  it("reseals when a device was removed meanwhile (stale_device_keys), without asking", async () => {
    const [alice, bob] = await friends(t.url, 2);
    const a = track(alice.client);
    const b1 = track(bob.client);
    const b2 = track(await bob.another());
    await deviceOf(a, "a");
    await deviceOf(b1, "b1");
    await deviceOf(b2, "b2");
    const changes = record(a, "key_change");
    await a.direct.send(bob.user.id, "to both");
    await take(b1, 1);
    await take(b2, 1);

    // Bob retires b2: its message key goes. Alice's cache still has it.
    const gone = b2.direct.device?.device_key_id as string;
    b2.direct.close();
    await bob.client.request("DELETE", `/v1/auth/keys/${gone}`);
    const sent = await a.direct.send(bob.user.id, "to b1 only");
    expect((await take(b1, 1))[0]).toMatchObject({ id: sent.id, text: "to b1 only" });
    expect(changes).toEqual([
      { user: bob.user.id, added: [], removed: [expect.objectContaining({ id: gone })], needsTrust: false },
    ]);
    expect((await a.direct.keys(bob.user.id)).trusted).toBe(true);
  });

  it("retries with the same client_msg_id: one message stored, over the socket or REST", async () => {
    const [alice, bob] = await friends(t.url, 2);
    const a = track(alice.client);
    const b = track(bob.client);
    await deviceOf(a, "a");
    await deviceOf(b, "b");
    const first = await a.direct.send(bob.user.id, "once", { clientMsgId: "retry-1" });
    const again = await a.direct.send(bob.user.id, "once", { clientMsgId: "retry-1" });
    expect(again).toEqual(first);
    // Without a socket connection the same id goes over REST and finds the same message.
    a.direct.socket?.close();
    const rest = await a.direct.send(bob.user.id, "once", { clientMsgId: "retry-1" });
    expect(rest).toEqual(first);
    expect((await take(b, 1))[0]?.id).toBe(first.id);
    await nothingWithin(b, 400);
  });

  it("retries over REST when the answer is lost on the way: the server keeps one message", async () => {
    const [alice, bob] = await friends(t.url, 2);
    let cut = 1;
    // The request reaches the server and is stored; the answer never comes back.
    const lossy: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (init?.method === "POST" && String(input).endsWith("/v1/messages/direct") && cut-- > 0) {
        throw new TypeError("connection reset");
      }
      return res;
    };
    const a = track(await alice.another(lossy));
    const b = track(bob.client);
    await deviceOf(a, "a", { connect: false });
    await deviceOf(b, "b");
    const sent = await a.direct.send(bob.user.id, "said once");
    expect(cut).toBe(-1);
    const [m] = await take(b, 1);
    expect([m?.id, m?.client_msg_id, m?.text]).toEqual([sent.id, sent.client_msg_id, "said once"]);
    await nothingWithin(b, 400);
  });

  it("refuses to send before setup, to a stranger, and to a user with no message device", async () => {
    const [alice, bob] = await friends(t.url, 2);
    const [stranger] = await friends(t.url, 1);
    const a = track(alice.client);
    expect(() => a.direct.send(bob.user.id, "x")).toThrow(/setup/);
    await deviceOf(a, "a");
    const none = await a.direct.send(bob.user.id, "x").catch((e: WarrenError) => e.code);
    expect(none).toBe("no_device_keys");
    // No key was seen, so bob's first device is trusted on first use, not a change.
    const b = track(bob.client);
    await deviceOf(b, "b");
    const changes = record(a, "key_change");
    await a.direct.send(bob.user.id, "first device");
    expect((await take(b, 1))[0]?.text).toBe("first device");
    expect(changes).toEqual([]);
    const s = track(stranger.client);
    await deviceOf(s, "s");
    const unavailable = await a.direct.send(stranger.user.id, "x").catch((e: WarrenError) => e.code);
    expect(unavailable).toBe("peer_unavailable");
  });
});
