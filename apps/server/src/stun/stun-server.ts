import { createSocket, type Socket } from "node:dgram";
import { bindingRequestId, bindingResponse, responseSize } from "./stun-codec.js";

export interface StunOptions {
  host: string;
  /** the main port (3478 by default) */
  port: number;
  /**
   * A second port answering the same way: a device that asks both from one socket and
   * is told two different mapped ports sits behind a NAT that maps per destination.
   */
  altPort: number | undefined;
  /** Binding requests per second per source address (token bucket refill; burst = 2×) */
  ratePerSecond: number;
  metrics?: { stun(outcome: "answered" | "rate_limited" | "dropped"): void };
  log: { warn(obj: object, msg: string): void };
}

/** Sources tracked at most; past it the table starts over (a flood of sources, each gets a fresh bucket). */
const MAX_SOURCES = 100_000;

/**
 * The STUN endpoint that tells a device which public address and port its packets
 * leave from (RFC 8489 Binding). Two rules keep it from being a weapon:
 * - no amplification: an answer is never larger than its request, so a request too
 *   short to hold the answer (a bare 20-byte header; the answer needs 32 bytes for
 *   IPv4) is dropped: clients pad with a SOFTWARE or PADDING attribute;
 * - a token bucket per source address; over it, requests are dropped silently.
 */
export function createStunServer(o: StunOptions) {
  const sockets: Socket[] = [];
  const buckets = new Map<string, { tokens: number; at: number }>();
  const burst = o.ratePerSecond * 2;

  const allow = (address: string): boolean => {
    const now = performance.now();
    let b = buckets.get(address);
    if (!b) {
      if (buckets.size >= MAX_SOURCES) buckets.clear();
      b = { tokens: burst, at: now };
      buckets.set(address, b);
    }
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * o.ratePerSecond);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  };

  const onMessage = (socket: Socket) => (msg: Buffer, rinfo: { address: string; port: number }) => {
    const id = bindingRequestId(msg);
    if (!id || msg.length < responseSize(rinfo.address.includes(":"))) {
      o.metrics?.stun("dropped");
      return;
    }
    if (!allow(rinfo.address)) {
      o.metrics?.stun("rate_limited");
      return;
    }
    o.metrics?.stun("answered");
    socket.send(bindingResponse(id, rinfo.address, rinfo.port), rinfo.port, rinfo.address);
  };

  const bind = (port: number) =>
    new Promise<Socket>((resolve, reject) => {
      const socket = createSocket({ type: "udp4" });
      socket.once("error", reject);
      socket.bind(port, o.host === "::" ? "0.0.0.0" : o.host, () => {
        socket.off("error", reject);
        socket.on("error", (err) => o.log.warn({ err }, "STUN socket error"));
        socket.on("message", onMessage(socket));
        resolve(socket);
      });
    });

  const prune = setInterval(() => {
    const old = performance.now() - 60_000;
    for (const [k, b] of buckets) if (b.at < old) buckets.delete(k);
  }, 60_000);
  prune.unref();

  return {
    /** Binds the ports; a port already taken is logged and skipped, the server still starts. */
    async start(): Promise<number[]> {
      const bound: number[] = [];
      for (const port of [o.port, o.altPort]) {
        if (port === undefined) continue;
        try {
          const s = await bind(port);
          sockets.push(s);
          bound.push(s.address().port);
        } catch (err) {
          o.log.warn({ err, port }, "STUN port not available; endpoint discovery on it is off");
        }
      }
      return bound;
    },
    ports: () => sockets.map((s) => s.address().port),
    close(): void {
      clearInterval(prune);
      for (const s of sockets.splice(0)) s.close();
    },
  };
}

export type StunServer = ReturnType<typeof createStunServer>;
