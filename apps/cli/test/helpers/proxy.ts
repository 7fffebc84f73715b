import { createConnection, createServer, type Socket } from "node:net";

/**
 * A TCP proxy on loopback between a daemon and the server: a test cuts every
 * connection through it (a socket lost without a close frame), refuses new ones for
 * a while (the server unreachable) and points it at another port (a restarted server).
 */
export interface TcpProxy {
  url: string;
  /** when each WebSocket upgrade tried while blocked came (Date.now()) */
  readonly refused: readonly number[];
  /** destroys every connection through the proxy, on both sides, without a word */
  cut(): void;
  /** new connections are closed at once until unblock() */
  block(): void;
  unblock(): void;
  /** where new connections go from now on */
  retarget(port: number): void;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number): Promise<TcpProxy> {
  let target = targetPort;
  let blocked = false;
  const refused: number[] = [];
  const open = new Set<Socket>();
  const track = (s: Socket) => {
    open.add(s);
    s.once("close", () => open.delete(s));
    s.on("error", () => s.destroy());
  };
  const server = createServer((client) => {
    track(client);
    if (blocked) {
      // Read the request first: only hub socket attempts count, not REST calls.
      client.once("data", (chunk: Buffer) => {
        if (/^upgrade: websocket/im.test(chunk.toString("latin1"))) refused.push(Date.now());
        client.destroy();
      });
      return;
    }
    const upstream = createConnection({ host: "127.0.0.1", port: target });
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.once("close", () => upstream.destroy());
    upstream.once("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("the proxy has no port");
  const cut = () => {
    for (const s of open) s.destroy();
  };
  return {
    url: `http://127.0.0.1:${address.port}`,
    get refused() {
      return refused;
    },
    cut,
    block: () => {
      blocked = true;
    },
    unblock: () => {
      blocked = false;
    },
    retarget: (port) => {
      target = port;
    },
    close: () =>
      new Promise<void>((resolve) => {
        cut();
        server.close(() => resolve());
      }),
  };
}
