import WebSocket from "ws";
import { type Api, register } from "./server.js";

/**
 * A small real-socket client for the hub suites: every frame the server sends is kept
 * in order, tests take the ones they expect (bounded waits) or check that none came.
 */
export interface HubClient {
  ws: WebSocket;
  welcome: any;
  /** every frame received after the welcome, in order (never consumed) */
  all: any[];
  send(frame: unknown): void;
  sendRaw(text: string): void;
  /** Sends the frame with a fresh id and resolves with the one reply carrying re: that id. */
  request(frame: Record<string, unknown>, timeoutMs?: number): Promise<any>;
  /** Takes the first not-yet-taken frame matching `match` (waiting for it, bounded). */
  next(match: Match, timeoutMs?: number): Promise<any>;
  /** Waits `ms` and returns the not-yet-taken frames matching `match` (taking them). */
  collect(match: Match, ms: number): Promise<any[]>;
  /** Resolves with the close code and reason once the socket is closed. */
  closed: Promise<{ code: number; reason: string }>;
  close(): Promise<void>;
}

export type Match = string | ((frame: any) => boolean);

const matcher = (m: Match) => (typeof m === "string" ? (f: any) => f?.type === m : m);

let ids = 0;
export const nextId = () => `r${++ids}`;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function wsUrl(httpUrl: string, query: Record<string, string> = {}): string {
  const q = new URLSearchParams(query).toString();
  return `${httpUrl.replace("http", "ws")}/v1/ws${q ? `?${q}` : ""}`;
}

/**
 * Opens a socket as `token` (optionally as `device`), waits for the welcome, and (unless
 * `hello: false`) sends one ping so the handshake deadline is met.
 */
export async function connectHub(
  httpUrl: string,
  token: string,
  options: { device?: string; hello?: boolean; timeoutMs?: number } = {},
): Promise<HubClient> {
  const ws = new WebSocket(wsUrl(httpUrl, options.device ? { device: options.device } : {}), {
    headers: { authorization: `Bearer ${token}` },
  });
  const all: any[] = [];
  const pending: any[] = [];
  let waiters: { match: (f: any) => boolean; resolve: (f: any) => void }[] = [];
  let welcomeResolve: (f: any) => void = () => {};
  let welcomeReject: (e: Error) => void = () => {};
  const welcomeP = new Promise<any>((resolve, reject) => {
    welcomeResolve = resolve;
    welcomeReject = reject;
  });
  let gotWelcome = false;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on("close", (code, reason) => {
      resolve({ code, reason: reason.toString() });
      welcomeReject(new Error(`closed before welcome: ${code}`));
    });
  });
  ws.on("error", (err) => welcomeReject(err));
  ws.on("message", (data, isBinary) => {
    // A binary frame or bad JSON from the server is kept as a marker a test can see.
    let frame: any;
    try {
      frame = isBinary ? { type: "__binary__" } : JSON.parse(data.toString());
    } catch {
      frame = { type: "__invalid_json__", text: data.toString() };
    }
    if (!gotWelcome && frame.type === "welcome") {
      gotWelcome = true;
      welcomeResolve(frame);
      return;
    }
    all.push(frame);
    const w = waiters.find((x) => x.match(frame));
    if (w) {
      waiters = waiters.filter((x) => x !== w);
      w.resolve(frame);
    } else pending.push(frame);
  });

  const next = (m: Match, timeoutMs = 3000): Promise<any> => {
    const match = matcher(m);
    const i = pending.findIndex(match);
    if (i >= 0) return Promise.resolve(pending.splice(i, 1)[0]);
    return new Promise((resolve, reject) => {
      const entry = {
        match,
        resolve: (f: any) => {
          clearTimeout(timer);
          resolve(f);
        },
      };
      const timer = setTimeout(() => {
        waiters = waiters.filter((x) => x !== entry);
        reject(
          new Error(
            `no matching frame within ${timeoutMs} ms (${typeof m === "string" ? m : "predicate"}); pending: ${JSON.stringify(pending).slice(0, 600)}`,
          ),
        );
      }, timeoutMs);
      waiters.push(entry);
    });
  };

  const send = (frame: unknown) => ws.send(JSON.stringify(frame));
  const client: HubClient = {
    ws,
    welcome: undefined,
    all,
    send,
    sendRaw: (text) => ws.send(text),
    request(frame, timeoutMs = 3000) {
      const id = nextId();
      const reply = next((f) => f.re === id, timeoutMs);
      send({ ...frame, id });
      return reply;
    },
    next,
    async collect(m, ms) {
      await sleep(ms);
      const match = matcher(m);
      const out = pending.filter(match);
      for (const f of out) pending.splice(pending.indexOf(f), 1);
      return out;
    },
    closed,
    async close() {
      if (ws.readyState === WebSocket.CLOSED) return;
      ws.close();
      const done = await Promise.race([closed.then(() => true), sleep(2000).then(() => false)]);
      if (!done) ws.terminate();
    },
  };

  const timeoutMs = options.timeoutMs ?? 5000;
  let timer: NodeJS.Timeout | undefined;
  try {
    client.welcome = await Promise.race([
      welcomeP,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("no welcome in time")), timeoutMs);
      }),
    ]);
  } catch (err) {
    ws.terminate();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  if (options.hello !== false) {
    const pong = await client.request({ type: "ping" });
    if (pong.type !== "pong") throw new Error(`expected pong, got ${JSON.stringify(pong)}`);
  }
  return client;
}

export interface HubUser {
  id: string;
  username: string;
  token: string;
}

/** Registers a password account. */
export async function hubUser(api: Api, fields: Record<string, unknown> = {}): Promise<HubUser> {
  const r = await register(api, fields);
  return { id: r.user.id, username: r.user.username, token: r.tokens.access_token };
}

/** Keeps every client a test opened, so afterEach can close them all. */
export function clientPool() {
  const open: HubClient[] = [];
  return {
    async connect(url: string, user: HubUser, options: Parameters<typeof connectHub>[2] = {}) {
      const c = await connectHub(url, user.token, options);
      open.push(c);
      return c;
    },
    async closeAll() {
      const list = open.splice(0);
      await Promise.all(list.map((c) => c.close()));
    },
  };
}

/**
 * Reads a Prometheus metric from /metrics: the sum of its samples whose labels include
 * every one of `labels`; 0 when no such sample is there yet.
 */
export async function metricValue(
  api: Api,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const res = await api("GET", "/metrics");
  const text = String(res.body);
  if (!text.includes(`# TYPE ${name} `)) throw new Error(`metric ${name} not in /metrics`);
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    if (wanted.every((w) => (m[2] ?? "").includes(w))) sum += Number(m[3]);
  }
  return sum;
}
