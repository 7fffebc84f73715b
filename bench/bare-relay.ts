/**
 * The baselines for `npm run bench -- relay`: a plain `ws` relay with no
 * authentication and no checks. A client connects with ?id=<id> (and optionally
 * &device=<device>); every text frame is parsed, stamped with the sender and
 * re-serialised as {type, from, from_device, payload}, then sent to the socket of
 * "to". Nothing else: no validation, no rate limit, no heartbeat.
 *
 * BARE_CORK=1 makes it the fair floor: the best simple relay one would write, which
 * corks each receiving socket until the end of the tick (process.nextTick), so the
 * frames produced while handling one read leave in one write, exactly as warren's
 * outbox does. Without it every relayed frame is its own write system call.
 *
 * Run as a child process: PORT (0 = any) and HOST from the environment; prints
 * `listening <port>` on stdout once it accepts connections.
 */
import { createServer } from "node:http";
import { type WebSocket, WebSocketServer } from "ws";

interface Client {
  id: string;
  device: string;
}

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST ?? "127.0.0.1";

const server = createServer((_req, res) => {
  res.writeHead(404).end();
});
const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: false });
const sockets = new Map<string, WebSocket>();
const cork = process.env.BARE_CORK === "1";

/** The TCP socket under a ws WebSocket (ws keeps it as _socket). */
type Corkable = { cork(): void; uncork(): void };
let corked: Corkable[] = [];
const uncorkAll = () => {
  const held = corked;
  corked = [];
  for (const socket of held) socket.uncork();
};
const held = new WeakSet<Corkable>();
const send = (target: WebSocket, text: string) => {
  if (cork) {
    const socket = (target as unknown as { _socket: Corkable })._socket;
    if (!held.has(socket)) {
      socket.cork();
      held.add(socket);
      if (corked.length === 0)
        process.nextTick(() => {
          for (const s of corked) held.delete(s);
          uncorkAll();
        });
      corked.push(socket);
    }
  }
  target.send(text);
};

wss.on("connection", (ws, req) => {
  const url = new URL(req.url ?? "/", "http://localhost");
  const me: Client = {
    id: url.searchParams.get("id") ?? "",
    device: url.searchParams.get("device") ?? "d",
  };
  sockets.set(me.id, ws);
  ws.on("message", (data, isBinary) => {
    if (isBinary) return;
    let frame: { type?: unknown; to?: unknown; payload?: unknown };
    try {
      frame = JSON.parse(data.toString());
    } catch {
      return;
    }
    const target = typeof frame.to === "string" ? sockets.get(frame.to) : undefined;
    if (!target) return;
    send(
      target,
      JSON.stringify({ type: frame.type, from: me.id, from_device: me.device, payload: frame.payload }),
    );
  });
  ws.on("error", () => {});
  ws.on("close", () => {
    if (sockets.get(me.id) === ws) sockets.delete(me.id);
  });
});

server.listen(port, host, () => {
  const address = server.address();
  const actual = typeof address === "object" && address ? address.port : port;
  process.stdout.write(`listening ${actual}\n`);
});

const stop = () => {
  for (const ws of sockets.values()) ws.terminate();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
