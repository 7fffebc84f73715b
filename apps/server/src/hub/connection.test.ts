import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { describe, expect, it, vi } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import type { HubConfig } from "../config.js";
import {
  Connection,
  type HubSocket,
  hubSocketClass,
  type Identity,
  releaseReadBuffers,
  type SocketEvents,
  welcomeOf,
  welcomeTextOf,
} from "./connection.js";

const hub = {
  maxMessageBytes: 65_536,
  messageRate: 20,
  messageBurst: 40,
  heartbeatIntervalMs: 25_000,
} as HubConfig;

const identity = (over: Partial<Identity> = {}): Identity => ({
  userId: "01a24b25-2a35-7000-838a-28c43a2ec937",
  username: "alice",
  device: "laptop",
  namedDevice: true,
  session: "01a24b25-2a36-7001-ae7f-29ac468a63a8",
  signinKey: null,
  isAdmin: false,
  protocol: 2,
  ...over,
});

describe("welcome frame", () => {
  it("as text is the frame welcomeOf describes, keys in the same order", () => {
    for (const id of [
      identity(),
      identity({ username: 'quo"te\\back\u0001slash', protocol: 1 }),
      identity({ username: "名前", device: "a.b:c-d_e" }),
    ]) {
      const conn = new Connection("01a24b25-7d25-7000-b2c4-614ac2847b7b", id, undefined as never, 0);
      const text = welcomeTextOf(conn, hub);
      const parsed = JSON.parse(text);
      const expected = welcomeOf(conn, hub);
      expect(Date.parse(parsed.server_time)).toBeGreaterThan(0);
      expect({ ...parsed, server_time: "" }).toEqual({ ...expected, server_time: "" });
      expect(Object.keys(parsed)).toEqual(Object.keys(expected));
      expect(text).toBe(JSON.stringify({ ...expected, server_time: parsed.server_time }));
    }
  });
});

/**
 * A real ws server whose sockets are the hub's class (no server listener on them, as in
 * the hub), one client connected, and the server side's socket with its Connection.
 */
async function hubPair(on: Partial<SocketEvents>) {
  const wss = new WebSocketServer({
    port: 0,
    host: "127.0.0.1",
    perMessageDeflate: false,
    clientTracking: false,
    WebSocket: hubSocketClass({
      message: () => {},
      flush: () => {},
      pong: () => {},
      close: () => {},
      error: () => {},
      ...on,
    }),
  });
  await once(wss, "listening");
  const accepted = once(wss, "connection");
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  const [ws] = (await accepted) as [HubSocket];
  ws.conn = new Connection("c1", identity(), ws, 0);
  await once(client, "open");
  return { wss, ws, client };
}

describe("ws's read buffers", () => {
  type Receiver = { _buffers: Buffer[]; _bufferedBytes: number };
  const receiverOf = (ws: WebSocket) => (ws as unknown as { _receiver: Receiver })._receiver;

  it("a socket's first frame leaves its chunk array new and empty; a later frame leaves it as it is", async () => {
    const frames: string[] = [];
    const { wss, ws, client } = await hubPair({
      message: (conn, data) => {
        frames.push(String(data));
        if (frames.length === 2) conn.valid = true;
      },
    });
    try {
      const receiver = receiverOf(ws);
      const seen = [receiver._buffers];
      for (const text of ["one", "two", "three"]) {
        client.send(text);
        await vi.waitFor(() => expect(frames.at(-1)).toBe(text));
        seen.push(receiver._buffers);
      }
      // Replaced after each frame while none was valid (the second made it valid), then kept.
      expect(seen[1]).not.toBe(seen[0]);
      expect(seen[2]).not.toBe(seen[1]);
      expect(seen[3]).toBe(seen[2]);
      for (const buffers of seen) expect(buffers).toEqual([]);
      client.terminate();
    } finally {
      wss.close();
    }
  });

  it("leaves the array alone while chunks are queued in it", () => {
    const chunk = Buffer.from("partial frame");
    const receiver: Receiver = { _buffers: [chunk], _bufferedBytes: chunk.length };
    const buffers = receiver._buffers;
    releaseReadBuffers({ _receiver: receiver } as unknown as WebSocket);
    expect(receiver._buffers).toBe(buffers);
    expect(receiver._buffers).toEqual([chunk]);
    const empty: Receiver = { _buffers: [], _bufferedBytes: 0 };
    const before = empty._buffers;
    releaseReadBuffers({ _receiver: empty } as unknown as WebSocket);
    expect(empty._buffers).not.toBe(before);
    // A ws without a receiver (closed, or another version) is left as it is.
    expect(() => releaseReadBuffers({} as WebSocket)).not.toThrow();
  });
});

describe("hub sockets' listeners", () => {
  it("hold no listener table until one is added; one added later hears its event", async () => {
    const closes: string[] = [];
    const { wss, ws, client } = await hubPair({ close: () => closes.push("hub") });
    try {
      expect((ws as unknown as { _events: unknown })._events).toBeUndefined();
      expect(ws.listenerCount("close")).toBe(0);
      ws.once("close", (code: number) => closes.push(`listener ${code}`));
      client.close(4001);
      await vi.waitFor(() => expect(closes).toEqual(["hub", "listener 4001"]));
    } finally {
      wss.close();
    }
  });
});
