import type { IncomingMessage } from "node:http";
import WebSocket, { type ClientOptions } from "ws";

/**
 * A real `ws` client for connection-level hub tests. It opens a socket with an access
 * token in any of the three accepted places, keeps the frames the server sends, and
 * gives bounded waits for a frame, a reply (`re`) and the close. Every wait has a
 * timeout, so a missing frame fails the test instead of hanging it.
 */

export type Frame = Record<string, any>;
export type Predicate = (frame: Frame) => boolean;
export type TokenVia = "header" | "protocol" | "query";

export interface OpenOptions {
  /** the access token; omitted means no token at all */
  token?: string;
  /** where the token goes (default: Authorization header) */
  via?: TokenVia;
  /** the path (default /v1/ws) */
  path?: string;
  /** extra query parameters (device, …) */
  query?: Record<string, string>;
  /** extra request headers */
  headers?: Record<string, string>;
  /** subprotocols offered besides `bearer.<token>` (default ["warren.v1"] when via=protocol) */
  protocols?: string[];
  /** frames to keep in `frames` (default: all); the rest are only counted */
  keep?: Predicate;
  /** passed to `new WebSocket` (autoPong, origin, …) */
  ws?: ClientOptions;
}

export interface Closed {
  code: number;
  reason: string;
}

export interface Refusal {
  status: number;
  headers: IncomingMessage["headers"];
  body: any;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export { sleep };

let idCounter = 0;
/** A request id no other request in this process uses. */
export const freshId = () => `q${process.pid}-${++idCounter}`;

/** The ws:// URL of a test server's http:// URL, with path and query. */
export function wsUrl(httpUrl: string, path = "/v1/ws", query: Record<string, string> = {}): string {
  const q = new URLSearchParams(query).toString();
  return `${httpUrl.replace(/^http/, "ws")}${path}${q ? `?${q}` : ""}`;
}

function timeoutError(what: string, ms: number, extra = ""): Error {
  return new Error(`timed out after ${ms} ms waiting for ${what}${extra ? `: ${extra}` : ""}`);
}

export class WsClient {
  /** frames kept (see OpenOptions.keep), in arrival order */
  readonly frames: Frame[] = [];
  /** every text frame received, kept or not */
  received = 0;
  /** bytes of every text frame received */
  receivedBytes = 0;
  /** binary frames received from the server (it should send none) */
  binary = 0;
  /** text frames received, kept or not, by type */
  private readonly byType = new Map<string, number>();
  private taken = new Set<Frame>();
  private waiters = new Set<{ match: Predicate; resolve: (f: Frame) => void }>();
  private readonly closedP: Promise<Closed>;
  private readonly openedP: Promise<void>;
  private closeInfo: Closed | undefined;

  constructor(
    readonly ws: WebSocket,
    private readonly keep: Predicate = () => true,
  ) {
    this.closedP = new Promise<Closed>((resolve) => {
      ws.on("close", (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
      });
    });
    this.openedP = new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("unexpected-response", (_req, res) => {
        void readBody(res).then((body) => {
          reject(
            Object.assign(new Error(`upgrade refused: HTTP ${res.statusCode}`), {
              status: res.statusCode,
              body,
            }),
          );
        });
      });
      ws.once("error", reject);
      ws.once("close", () => reject(new Error("closed before opening")));
    });
    this.openedP.catch(() => {});
    ws.on("error", () => {});
    ws.on("message", (data, isBinary) => {
      if (isBinary) {
        this.binary += 1;
        return;
      }
      const text = data.toString();
      this.received += 1;
      this.receivedBytes += text.length;
      let frame: Frame;
      try {
        frame = JSON.parse(text);
      } catch {
        frame = { type: "__not_json__", text };
      }
      const type = String(frame?.type);
      this.byType.set(type, (this.byType.get(type) ?? 0) + 1);
      for (const w of this.waiters) {
        if (w.match(frame)) {
          this.waiters.delete(w);
          this.taken.add(frame);
          if (this.keep(frame)) this.frames.push(frame);
          w.resolve(frame);
          return;
        }
      }
      if (this.keep(frame)) this.frames.push(frame);
    });
  }

  /** Resolves once the socket is open; rejects (with .status/.body) when the upgrade is refused. */
  opened(timeoutMs = 5000): Promise<void> {
    return bounded(this.openedP, timeoutMs, "the socket to open");
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /**
   * The first frame matching `match` not yet taken by an earlier next/request, already
   * received or still to come, within `timeoutMs`.
   */
  next(match: Predicate | string, timeoutMs = 3000): Promise<Frame> {
    const m: Predicate = typeof match === "string" ? (f) => f.type === match : match;
    const have = this.frames.find((f) => !this.taken.has(f) && m(f));
    if (have) {
      this.taken.add(have);
      return Promise.resolve(have);
    }
    return new Promise<Frame>((resolve, reject) => {
      const entry = {
        match: m,
        resolve: (f: Frame) => {
          clearTimeout(timer);
          resolve(f);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(entry);
        reject(
          timeoutError(
            typeof match === "string" ? `a ${match} frame` : "a matching frame",
            timeoutMs,
            `have ${JSON.stringify(this.frames.slice(-8)).slice(0, 800)}`,
          ),
        );
      }, timeoutMs);
      this.waiters.add(entry);
    });
  }

  /** Sends `frame` with a fresh id and resolves with the frame whose "re" is that id. */
  async request(frame: Record<string, unknown>, timeoutMs = 3000): Promise<Frame> {
    const id = freshId();
    const reply = this.next((f) => f.re === id, timeoutMs);
    this.send({ ...frame, id });
    return reply;
  }

  /** How many frames of `type` arrived, kept or not. */
  count(type: string): number {
    return this.byType.get(type) ?? 0;
  }

  /** Every kept frame matching `match` (taken or not). */
  all(match: Predicate | string): Frame[] {
    const m: Predicate = typeof match === "string" ? (f) => f.type === match : match;
    return this.frames.filter(m);
  }

  /** Resolves with the close code and reason (bounded). */
  closed(timeoutMs = 5000): Promise<Closed> {
    return bounded(this.closedP, timeoutMs, "the socket to close");
  }

  /** The close, if it already happened. */
  get closeState(): Closed | undefined {
    return this.closeInfo;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Closes politely, and terminates if the server does not answer in time. */
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    if (this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.terminate();
    } else {
      (this.ws as any)._socket?.resume?.();
      this.ws.close();
    }
    await Promise.race([this.closedP, sleep(2000)]);
    if ((this.ws.readyState as number) !== WebSocket.CLOSED) this.ws.terminate();
    await Promise.race([this.closedP, sleep(1000)]);
  }
}

function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timeoutError(what, ms)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function readBody(res: IncomingMessage): Promise<any> {
  return new Promise((resolve) => {
    let text = "";
    res.setEncoding("utf8");
    res.on("data", (c: string) => {
      text += c;
    });
    const done = () => {
      try {
        resolve(text ? JSON.parse(text) : undefined);
      } catch {
        resolve(text);
      }
    };
    res.on("end", done);
    res.on("error", done);
    res.on("close", done);
  });
}

/** Builds the socket for `options` without waiting for anything. */
export function openSocket(httpUrl: string, options: OpenOptions = {}): WsClient {
  const via = options.via ?? "header";
  const query = { ...options.query };
  const headers: Record<string, string> = { ...options.headers };
  let protocols = options.protocols;
  if (options.token !== undefined) {
    if (via === "header") headers.authorization = `Bearer ${options.token}`;
    else if (via === "query") query.token = options.token;
    else protocols = [...(protocols ?? ["warren.v1"]), `bearer.${options.token}`];
  }
  const ws = new WebSocket(wsUrl(httpUrl, options.path, query), protocols ?? [], {
    ...options.ws,
    headers: { ...options.ws?.headers, ...headers },
  });
  return new WsClient(ws, options.keep);
}

/** Keeps every socket a suite opens so afterEach can close them all. */
export function socketPool() {
  const open = new Set<WsClient>();
  const track = (c: WsClient) => {
    open.add(c);
    return c;
  };
  return {
    /** Opens a socket and waits for it to open (not for the welcome). */
    async open(httpUrl: string, options: OpenOptions = {}): Promise<WsClient> {
      const c = track(openSocket(httpUrl, options));
      await c.opened();
      return c;
    },
    /**
     * Opens a socket, waits for the welcome (the first frame) and, unless `hello` is
     * false, answers the handshake deadline with one ping.
     */
    async connect(
      httpUrl: string,
      options: OpenOptions & { hello?: boolean } = {},
    ): Promise<WsClient & { welcome: Frame }> {
      const c = track(openSocket(httpUrl, options));
      await c.opened();
      const welcome = await c.next(() => true, 3000);
      if (welcome.type !== "welcome")
        throw new Error(`first frame was not welcome: ${JSON.stringify(welcome)}`);
      if (options.hello !== false) {
        const pong = await c.request({ type: "ping" });
        if (pong.type !== "pong") throw new Error(`expected pong, got ${JSON.stringify(pong)}`);
      }
      return Object.assign(c, { welcome });
    },
    /** Opens a socket that must be refused before the upgrade; resolves with the HTTP answer. */
    async refused(httpUrl: string, options: OpenOptions = {}, timeoutMs = 5000): Promise<Refusal> {
      const c = track(openSocket(httpUrl, options));
      const answer = new Promise<Refusal>((resolve, reject) => {
        c.ws.once("unexpected-response", (_req, res) => {
          void readBody(res).then((body) =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body }),
          );
        });
        c.ws.once("open", () => reject(new Error("the upgrade was accepted")));
        c.ws.once("error", (err) => reject(err));
      });
      try {
        return await bounded(answer, timeoutMs, "the upgrade to be refused");
      } finally {
        c.ws.terminate();
      }
    },
    track,
    async closeAll(): Promise<void> {
      const list = [...open];
      open.clear();
      await Promise.all(list.map((c) => c.close()));
    },
  };
}

/** One sample of a Prometheus metric with exactly these labels (0 when absent). */
export function metricSample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have: Record<string, string> = {};
    for (const pair of (m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)) have[pair[1] as string] = pair[2] as string;
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

/** Polls `check` until it returns true, or throws after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw timeoutError(what, timeoutMs);
    await sleep(20);
  }
}
