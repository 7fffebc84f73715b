/** Client sockets of a load process: opening them cheaply, one request/reply, a bounded pool. */
import type { Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { PROTOCOL_VERSION, subprotocolOf } from "@warren/protocol";
import { type RawData, WebSocket } from "ws";
import type { Mode, SocketSpec } from "./messages.js";

/**
 * Every socket asks for the protocol version the SDK speaks (warren.v2), as real clients
 * do; the bare relays accept it too (ws echoes the first offered), so the handshakes match.
 */
const PROTOCOLS = [subprotocolOf(PROTOCOL_VERSION)];

export const zeroMask = (mask: Buffer): void => {
  mask.fill(0);
};

export const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

export const socketOf = (ws: WebSocket): Socket => (ws as unknown as { _socket: Socket })._socket;

export function connect(spec: SocketSpec, timeoutMs: number): WebSocket {
  const ws = new WebSocket(spec.url, PROTOCOLS, {
    headers: spec.headers ?? {},
    localAddress: spec.localAddress,
    perMessageDeflate: false,
    skipUTF8Validation: true,
    generateMask: zeroMask,
    handshakeTimeout: timeoutMs,
  });
  ws.on("error", () => {});
  return ws;
}

/** Opens a socket: for warren, resolves once the welcome frame arrived. */
export function open(spec: SocketSpec, mode: Mode, timeoutMs: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = connect(spec, timeoutMs);
    let settled = false;
    const done = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.off("error", onError);
      ws.off("close", onClose);
      if (err) {
        ws.terminate();
        reject(err);
      } else resolve(ws);
    };
    const timer = setTimeout(
      () => done(new Error(`no ${mode === "warren" ? "welcome" : "open"} in time`)),
      timeoutMs,
    );
    const onError = (err: Error) => done(err);
    const onClose = (code: number) => done(new Error(`closed ${code} while opening`));
    ws.on("error", onError);
    ws.on("close", onClose);
    if (mode !== "warren") ws.once("open", () => done());
    else {
      ws.once("message", (data: RawData) => {
        const text = String(data);
        if (text.startsWith('{"type":"welcome"')) done();
        else done(new Error(`expected welcome, got ${text.slice(0, 120)}`));
      });
    }
  });
}

/** Sends a frame with an id and waits for the reply carrying it (warren only). */
export function request(
  ws: WebSocket,
  frame: { id: string; type: string; [k: string]: unknown },
  timeoutMs: number,
) {
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    const onMessage = (data: RawData) => {
      let reply: Record<string, unknown>;
      try {
        reply = JSON.parse(String(data));
      } catch {
        return;
      }
      if (reply.re !== frame.id) return;
      finish();
      if (reply.type === "error") reject(new Error(`${frame.type}: ${reply.code}: ${reply.message}`));
      else resolve(reply);
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`${frame.type}: no reply in time`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      ws.off("message", onMessage);
    };
    ws.on("message", onMessage);
    ws.send(JSON.stringify(frame));
  });
}

/** Runs `task` over `items` with at most `concurrency` at once, until `deadline`. */
export async function pool<T>(
  items: T[],
  concurrency: number,
  deadline: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length && performance.now() < deadline) {
      const item = items[next++] as T;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
}
