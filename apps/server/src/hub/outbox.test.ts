import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { createMetrics } from "../observability/metrics.js";
import { Connection, type HubSocket, hubSocketClass, type Identity } from "./connection.js";
import { createOutbox } from "./outbox.js";

/** The outbox reads nothing of the identity but the protocol version. */
const identity = { protocol: 2 } as Identity;

/** A real ws server whose sockets are the hub's class, and one client connected to it. */
async function pair(slowClientBytes = 1 << 20) {
  const outbox = createOutbox(createMetrics(), slowClientBytes);
  const wss = new WebSocketServer({
    port: 0,
    host: "127.0.0.1",
    perMessageDeflate: false,
    WebSocket: hubSocketClass({
      message: () => {},
      flush: (conn) => outbox.flush(conn),
      pong: () => {},
      close: () => {},
      error: () => {},
    }),
  });
  await once(wss, "listening");
  const accepted = once(wss, "connection");
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  const got: string[] = [];
  client.on("message", (data, isBinary) => got.push(isBinary ? `binary:${String(data)}` : String(data)));
  const closed = new Promise<number>((resolve) => client.once("close", (code) => resolve(code)));
  const [ws] = (await accepted) as [HubSocket];
  const conn = new Connection("c1", identity, ws, 0);
  ws.conn = conn;
  await once(client, "open");
  return { wss, outbox, conn, ws, client, got, closed };
}

let servers: WebSocketServer[] = [];
afterEach(() => {
  for (const s of servers) s.close();
  servers = [];
});

describe("outbox", () => {
  it("sends a tick's frames in the order sent, a binary one among them, and all before a close made in the same tick", async () => {
    const p = await pair();
    servers.push(p.wss);
    for (let i = 0; i < 50; i++) p.outbox.send(p.conn, `{"type":"n","i":${i}}`, "n");
    p.ws.send("packet", { binary: true });
    p.outbox.send(p.conn, '{"type":"last"}', "last");
    p.ws.close(4000, "bye");
    expect(await p.closed).toBe(4000);
    expect(p.got).toEqual([
      ...Array.from({ length: 50 }, (_, i) => `{"type":"n","i":${i}}`),
      "binary:packet",
      '{"type":"last"}',
    ]);
  });

  it("closes a socket with 1013 once what it holds passes SLOW_CLIENT_BYTES, and sends none of it", async () => {
    const p = await pair(1000);
    servers.push(p.wss);
    let sent = 0;
    for (let i = 0; i < 40; i++)
      if (p.outbox.send(p.conn, `{"type":"x","pad":"${"x".repeat(40)}"}`, "x")) sent++;
    expect(sent).toBeLessThan(40);
    expect(await p.closed).toBe(1013);
    expect(p.got).toEqual([]);
  });

  it("sends a frame that is alone in its tick whole, at every header length and in UTF-8", async () => {
    const p = await pair();
    servers.push(p.wss);
    const texts = [
      '{"type":"a","s":"é✓"}',
      `{"type":"b","pad":"${"ü".repeat(200)}"}`,
      `{"type":"c","pad":"${"x".repeat(70_000)}"}`,
    ];
    for (const text of texts) {
      const before = p.got.length;
      p.outbox.send(p.conn, text, "t");
      await new Promise<void>((resolve) => {
        const poll = () => (p.got.length > before ? resolve() : setTimeout(poll, 5));
        poll();
      });
    }
    expect(p.got).toEqual(texts);
  });
});
