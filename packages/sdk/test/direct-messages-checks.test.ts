import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { sqliteBackend } from "../../../apps/server/test/helpers/backends.js";
import { removeTempDirs, startWarren, stopAll, tempDir } from "../../../apps/server/test/helpers/process.js";
import { startTestServer, type TestServer } from "../../../apps/server/test/helpers/server.js";
import {
  type Client,
  type DirectDevice,
  DM_VERSION,
  generateEd25519,
  type SealedCopy,
  seal,
  signEnvelope,
} from "../src/index.js";
import { deviceOf, friends, nothingWithin, record, take, until } from "./direct-fixtures.js";

/** A real server process may take a while to start on a loaded two-core machine. */
const STARTUP_MS = 60_000;

/**
 * What the SDK refuses to hand out even when the server stored it: a server run with
 * ALLOW_UNSIGNED and ALLOW_UNVERIFIED lets through messages a careful client must not
 * show as the sender's, and a correctly signed message can still carry a copy that
 * does not match what was signed. Each is reported, acknowledged and dropped; the
 * messages after it still come through. And the sending side's own limits: a device
 * clock the server refuses, and a message too big for one hub frame.
 */
describe("sdk direct messages: what the SDK checks", () => {
  let t: TestServer;
  const clients: Client[] = [];
  beforeAll(async () => {
    t = await startTestServer(sqliteBackend, { ALLOW_UNSIGNED: "true", ALLOW_UNVERIFIED: "true" });
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.direct.close();
  });
  afterAll(async () => {
    await t?.close();
    await stopAll();
    removeTempDirs();
  });

  /** A message from `sender` to `to`'s device, built by hand so each part can be wrong. */
  async function raw(
    sender: { client: Client; device: DirectDevice; identity: Uint8Array },
    to: DirectDevice,
    options: {
      text?: string;
      sealedSentAt?: string;
      aadTo?: string;
      sign?: "yes" | "no" | { keyId: string; secret: Uint8Array };
    } = {},
  ) {
    const sentAt = new Date().toISOString();
    const clientMsgId = `raw-${Math.random().toString(36).slice(2)}`;
    const plaintext = new TextEncoder().encode(
      JSON.stringify({ text: options.text ?? "raw", sent_at: options.sealedSentAt ?? sentAt }),
    );
    const aad = `${sender.device.user}\n${options.aadTo ?? to.user}\n${clientMsgId}`;
    const copies: SealedCopy[] = [
      { device_key_id: to.device_key_id, ...(await seal(to.message_public_key, plaintext, DM_VERSION, aad)) },
    ];
    const fields = {
      sender: sender.device.user,
      recipient: to.user,
      sent_at: sentAt,
      client_msg_id: clientMsgId,
    };
    const sign = options.sign ?? "yes";
    const signer =
      sign === "yes"
        ? { keyId: sender.device.signing_key_id, secret: sender.identity }
        : sign === "no"
          ? undefined
          : sign;
    const signature = signer ? (await signEnvelope(signer.secret, fields, copies)).signature : undefined;
    return sender.client.request<{ id: string }>("POST", "/v1/messages/direct", {
      to: to.user,
      client_msg_id: clientMsgId,
      sent_at: sentAt,
      copies,
      ...(signer ? { signature, signing_key_id: signer.keyId } : {}),
    });
  }

  async function pair() {
    const [alice, bob] = await friends(t.url, 2);
    clients.push(alice.client, bob.client);
    const identity = generateEd25519().secretKey;
    const aDevice = await alice.client.direct.setup({ device: "a", identity, connect: false });
    const { info: bDevice, store } = await deviceOf(bob.client, "b");
    return { alice, bob, sender: { client: alice.client, device: aDevice, identity }, bDevice, store };
  }

  it("drops and reports what is unsigned, signed by another user's key, or does not match what was signed", async () => {
    const { bob, sender, bDevice } = await pair();
    const errors = record(bob.client, "error");
    const bobSigning = { keyId: bDevice.signing_key_id, secret: generateEd25519().secretKey };
    const bad = [
      await raw(sender, bDevice, { sign: "no" }),
      // bob's key id: not a key of alice (the server marks it unverified)
      await raw(sender, bDevice, { sign: bobSigning }),
      await raw(sender, bDevice, { sealedSentAt: "2001-01-01T00:00:00.000Z" }),
      // sealed for another conversation: the copy does not open under this one's aad
      await raw(sender, bDevice, { aadTo: sender.device.user }),
    ];
    const good = await raw(sender, bDevice, { text: "the real one" });
    const [m] = await take(bob.client, 1);
    expect([m?.id, m?.text, m?.verification]).toEqual([good.id, "the real one", "verified"]);
    await until(() => errors.length === bad.length, 3000, "errors");
    expect(errors.map((e) => e.message?.id)).toEqual(bad.map((b) => b.id));
    expect(errors.map((e) => e.error.message.replace(/^.*dropped: /, ""))).toEqual([
      "it is not signed",
      "its signing key is not a key of the sender",
      "the sealed sent_at is not the signed one",
      "the copy does not open with this device's key",
    ]);
    await nothingWithin(bob.client);
  });

  it("acknowledges what it dropped, so the device is not sent it again", async () => {
    const { bob, sender, bDevice, store } = await pair();
    const errors = record(bob.client, "error");
    const unsigned = await raw(sender, bDevice, { sign: "no" });
    const later = await raw(sender, bDevice, { text: "after it" });
    expect((await take(bob.client, 1))[0]?.id).toBe(later.id);
    expect(errors.map((e) => e.message?.id)).toEqual([unsigned.id]);
    await new Promise((r) => setTimeout(r, 200));
    bob.client.direct.close();
    // The same device again (same store, same keys): nothing is pending for it.
    const b = await bob.another();
    clients.push(b);
    const again = record(b, "error");
    const { info } = await deviceOf(b, "b", { store });
    expect(info.device_key_id).toBe(bDevice.device_key_id);
    await nothingWithin(b, 500);
    expect(again).toEqual([]);
  });

  it(
    "corrects for a device clock the server refuses (more than 5 minutes off), once",
    async () => {
      // A server in its own process, so only this process's clock is wrong.
      const proc = await startWarren({
        env: { DATA_DIR: tempDir("warren-clock-"), LOG_LEVEL: "warn" },
        timeoutMs: STARTUP_MS,
      });
      const [alice, bob] = await friends(`http://127.0.0.1:${proc.port}`, 2);
      clients.push(alice.client, bob.client);
      await deviceOf(alice.client, "a", { connect: false });
      await deviceOf(bob.client, "b", { connect: false });
      const real = Date.now.bind(Date);
      const skew = vi.spyOn(Date, "now").mockImplementation(() => real() + 10 * 60_000);
      try {
        for (const text of ["first", "second"]) {
          const sent = await alice.client.direct.send(bob.user.id, text);
          expect(Math.abs(Date.parse(sent.sent_at) - real())).toBeLessThan(60_000);
        }
      } finally {
        skew.mockRestore();
      }
      await bob.client.direct.socket?.connect();
      expect((await take(bob.client, 2)).map((m) => m.text)).toEqual(["first", "second"]);
      await proc.kill();
    },
    2 * STARTUP_MS,
  );

  it("sends a message too big for one hub frame over REST, keeping the socket", async () => {
    const [alice, bob] = await friends(t.url, 2);
    const b2 = await bob.another();
    clients.push(alice.client, bob.client, b2);
    await deviceOf(alice.client, "a");
    await deviceOf(bob.client, "b1");
    await deviceOf(b2, "b2");
    const limit = alice.client.direct.socket?.welcome?.limits.max_message_bytes as number;
    const text = "ü".repeat(Math.ceil(limit / 4)); // two copies of it are more than a frame holds
    const sent = await alice.client.direct.send(bob.user.id, text);
    for (const c of [bob.client, b2]) expect((await take(c, 1))[0]).toMatchObject({ id: sent.id, text });
    expect(alice.client.direct.socket?.connected).toBe(true);
  });

  it("hands out unsigned and unverified messages, marked so, when asked to", async () => {
    const [alice, bob] = await friends(t.url, 2);
    clients.push(alice.client, bob.client);
    const identity = generateEd25519().secretKey;
    const aDevice = await alice.client.direct.setup({ device: "a", identity, connect: false });
    const bDevice = await bob.client.direct.setup({
      device: "b",
      socket: { WebSocket: (await import("ws")).WebSocket },
      acceptUnverified: true,
    });
    const sender = { client: alice.client, device: aDevice, identity };
    const unsigned = await raw(sender, bDevice, { sign: "no", text: "no signature" });
    const other = { keyId: bDevice.signing_key_id, secret: generateEd25519().secretKey };
    const unverified = await raw(sender, bDevice, { sign: other, text: "unknown key" });
    const got = await take(bob.client, 2);
    expect(got.map((m) => [m.id, m.text, m.verification])).toEqual([
      [unsigned.id, "no signature", "unsigned"],
      [unverified.id, "unknown key", "unverified"],
    ]);
  });
});
