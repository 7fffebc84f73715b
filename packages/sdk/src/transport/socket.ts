import { CLOSE, type ClientFrame, currentType, type WelcomeFrame } from "@warren/protocol";
import { WarrenError } from "../errors.js";
import { createBackoff } from "./backoff.js";
import { createEmitter } from "./emitter.js";
import { createRoomMemory } from "./rooms.js";
import { disconnected, errorOf, parseFrame, SUBPROTOCOLS, socketUrl } from "./socket-frames.js";
import type {
  OpenEvent,
  Replies,
  SocketEvents,
  SocketOptions,
  WarrenSocket,
  WebSocketConstructor,
  WebSocketLike,
} from "./socket-types.js";

export interface SocketDeps {
  baseUrl: string;
  /** an access token good for a while; `force` refreshes it first */
  accessToken: (force?: boolean) => Promise<string>;
}

/** No frame for this many heartbeat intervals: the server (or the path to it) is gone. */
const SILENCE_LIMIT = 2.5;

interface Pending {
  frame: ClientFrame & { id: string };
  resolve: (value: never) => void;
  reject: (err: WarrenError) => void;
  timer: ReturnType<typeof setTimeout>;
}

const ignore = () => {};

/** An auth failure (no tokens, refresh refused) cannot be fixed by waiting: stop reconnecting. */
const isFatal = (err: unknown) => !(err instanceof WarrenError) || err.status === 401 || err.status === 403;

/**
 * A hub socket that stays connected: it reconnects with backoff after a drop, joins
 * its rooms again, matches replies to requests by id, and watches for a silent server
 * (browsers cannot see WebSocket pings, so it sends ping frames itself).
 */
export function createSocket(deps: SocketDeps, options: SocketOptions = {}): WarrenSocket {
  const url = socketUrl(deps.baseUrl, options);
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const reconnect = options.reconnect === false ? undefined : (options.reconnect ?? {});
  const backoff = createBackoff(reconnect?.minDelayMs ?? 500, reconnect?.maxDelayMs ?? 30_000);
  const events = createEmitter<SocketEvents>();
  const memory = createRoomMemory();
  const pending = new Map<string, Pending>();

  let ws: WebSocketLike | undefined;
  /** welcomed: requests may go out (re-joins run before "open") */
  let live = false;
  /** "open" was emitted and no drop since */
  let connected = false;
  let stopped = false;
  let everOpened = false;
  let welcome: WelcomeFrame | undefined;
  let connecting: Promise<WelcomeFrame> | undefined;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let reconnecting = false;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let lastTraffic = 0;
  let shutdownDelayMs = 0;
  let cancelAttempt: ((err: WarrenError) => void) | undefined;
  let nextId = 0;

  const detach = (s: WebSocketLike) => {
    s.onopen = null;
    s.onmessage = null;
    s.onclose = null;
    // Closing a socket that is still connecting makes `ws` emit an error; keep a listener.
    s.onerror = ignore;
  };

  const rejectPending = (err: WarrenError) => {
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    pending.clear();
  };

  const sendRaw = (frame: ClientFrame) => {
    if (!ws || !live) throw disconnected("The socket is not connected");
    ws.send(JSON.stringify(frame));
  };

  /** One WebSocket, resolved on its welcome frame; rejected if it closes or stays silent first. */
  function openOnce(token: string): Promise<WelcomeFrame> {
    const Ctor =
      options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket ?? undefined;
    if (!Ctor) {
      return Promise.reject(
        new Error("No WebSocket implementation: pass options.WebSocket (in Node 20, WebSocket from 'ws')"),
      );
    }
    return new Promise((resolve, reject) => {
      const s = new Ctor(url, [...SUBPROTOCOLS, `bearer.${token}`]);
      ws = s;
      const fail = (err: WarrenError) => {
        clearTimeout(timer);
        cancelAttempt = undefined;
        detach(s);
        if (ws === s) ws = undefined;
        s.close();
        reject(err);
      };
      const timer = setTimeout(
        () => fail(new WarrenError("timeout", `No welcome from ${url} within ${requestTimeoutMs} ms`, 0)),
        requestTimeoutMs,
      );
      cancelAttempt = fail;
      s.onmessage = (event: { data: unknown }) => {
        const frame = parseFrame(event.data);
        if (frame?.type !== "welcome") return;
        clearTimeout(timer);
        cancelAttempt = undefined;
        live = true;
        welcome = frame;
        s.onmessage = (e: { data: unknown }) => onText(e.data);
        s.onclose = (e: { code: number; reason: string }) => dropped(s, e.code, e.reason);
        resolve(frame);
      };
      // A refused upgrade (401, 429, 503…) looks like any other close here, as in a browser.
      s.onclose = (e: { code: number; reason: string }) =>
        fail(
          disconnected(`The socket closed before welcome (${e.code})`, { code: e.code, reason: e.reason }),
        );
      s.onerror = ignore;
    });
  }

  /** One connection: a fresh token, and one retry with a refreshed token if the first try fails. */
  async function attempt(): Promise<WelcomeFrame> {
    const token = await deps.accessToken();
    try {
      return await openOnce(token);
    } catch (err) {
      // A browser cannot see why an upgrade failed (an expired or revoked token looks
      // like a dead server), so refresh once and try again.
      if (stopped || !(err instanceof WarrenError)) throw err;
      return openOnce(await deps.accessToken(true));
    }
  }

  /** Connects, joins remembered rooms again after a reconnect, then emits "open". */
  async function establish(reconnected: boolean): Promise<WelcomeFrame> {
    const w = await attempt();
    if (stopped || !live) throw disconnected("The socket closed right after its welcome");
    backoff.reset();
    shutdownDelayMs = 0;
    startHeartbeat(w.limits.heartbeat_interval_ms);
    // The hub closes sockets that send no valid frame within HANDSHAKE_TIMEOUT (1008).
    sendRaw({ type: "ping" });
    const lostRooms = reconnected ? await rejoin() : [];
    if (!live || ws === undefined) throw disconnected("The socket closed while joining its rooms again");
    connected = true;
    everOpened = true;
    events.emit("open", { welcome: w, reconnected, lostRooms });
    return w;
  }

  async function rejoin(): Promise<OpenEvent["lostRooms"]> {
    const joins = memory.joins();
    const results = await Promise.allSettled(joins.map((frame) => request(frame)));
    const lost: OpenEvent["lostRooms"] = [];
    results.forEach((result, i) => {
      const room = joins[i]?.room;
      if (result.status === "fulfilled" || room === undefined) return;
      const error = result.reason as WarrenError;
      // The server's own answer (deleted, banned, full…): forget the room. A drop or a
      // timeout says nothing about the room: keep it for the next reconnect.
      if (error.code === "disconnected" || error.code === "timeout") return;
      memory.forget(room);
      lost.push({ room, error });
    });
    return lost;
  }

  function startHeartbeat(intervalMs: number) {
    stopHeartbeat();
    lastTraffic = Date.now();
    if (!(intervalMs > 0)) return;
    heartbeat = setInterval(
      () => {
        const silent = Date.now() - lastTraffic;
        const s = ws;
        if (!s || !live) return;
        if (silent >= SILENCE_LIMIT * intervalMs) {
          // A dead peer may never finish the close handshake: stop listening now.
          detach(s);
          s.close(4000, "no traffic from the server");
          dropped(s, 1006, "no traffic from the server");
        } else if (silent >= intervalMs) {
          try {
            sendRaw({ type: "ping" });
          } catch {
            // the socket is going; its close event does the rest
          }
        }
      },
      Math.max(10, intervalMs / 2),
    );
  }

  function stopHeartbeat() {
    if (heartbeat !== undefined) clearInterval(heartbeat);
    heartbeat = undefined;
  }

  function onText(data: unknown) {
    lastTraffic = Date.now();
    const frame = parseFrame(data);
    if (!frame) return;
    const re = (frame as { re?: unknown }).re;
    const p = typeof re === "string" ? pending.get(re) : undefined;
    if (p) {
      pending.delete(p.frame.id);
      clearTimeout(p.timer);
      if (frame.type === "error") return p.reject(errorOf(frame));
      const value = frame.type === "result" ? frame.result : frame;
      memory.replied(p.frame, value);
      return p.resolve(value as never);
    }
    memory.received(frame);
    if (frame.type === "server.shutdown") shutdownDelayMs = frame.reconnect_after_ms;
    events.emit("frame", frame);
    events.emit(frame.type, frame as never);
  }

  /** The welcomed socket `s` is gone: fail what waits on it, then reconnect unless told not to. */
  function dropped(s: WebSocketLike, code: number, reason: string) {
    if (ws !== s) return;
    detach(s);
    ws = undefined;
    live = false;
    connected = false;
    stopHeartbeat();
    rejectPending(disconnected(`The socket closed (${code}${reason ? ` ${reason}` : ""})`, { code, reason }));
    // Before the first "open", connect() reports the failure and nothing reconnects.
    if (stopped || (!everOpened && !reconnecting)) return;
    // 1008: closed for abuse or idling; coming straight back would only repeat it.
    const willReconnect = reconnect !== undefined && code !== CLOSE.policy_violation;
    if (!willReconnect) stopped = true;
    events.emit("close", { code, reason, willReconnect });
    if (willReconnect) schedule();
  }

  function schedule() {
    if (stopped || reconnectTimer !== undefined || reconnecting) return;
    // After server.shutdown, at least its reconnect_after_ms, plus the jittered backoff.
    const delay = shutdownDelayMs + backoff.next();
    shutdownDelayMs = 0;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      reconnecting = true;
      establish(true)
        .catch((err: unknown) => {
          if (stopped) return;
          if (isFatal(err)) return giveUp(err);
        })
        .finally(() => {
          reconnecting = false;
          if (!stopped && !live) schedule();
        });
    }, delay);
  }

  /** The token can no longer be refreshed (or the socket cannot be made): stop for good. */
  function giveUp(err: unknown) {
    stopped = true;
    const auth = err instanceof WarrenError && (err.status === 401 || err.status === 403);
    const reason = err instanceof Error ? err.message : String(err);
    events.emit("close", { code: auth ? CLOSE.session_ended : 1006, reason, willReconnect: false });
  }

  function request<F extends ClientFrame>(frame: F): Promise<Replies[F["type"]]> {
    if (!ws || !live) return Promise.reject(disconnected("The socket is not connected"));
    const id = frame.id ?? `r${++nextId}`;
    if (pending.has(id)) return Promise.reject(new WarrenError("invalid_request", `id ${id} is in use`, 400));
    const out = { ...frame, id };
    const s = ws;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new WarrenError("timeout", `No reply to ${frame.type} within ${requestTimeoutMs} ms`, 0));
      }, requestTimeoutMs);
      pending.set(id, { frame: out, resolve, reject, timer });
      try {
        s.send(JSON.stringify(out));
      } catch (err) {
        clearTimeout(timer);
        pending.delete(id);
        reject(disconnected(`Sending failed: ${(err as Error).message}`));
      }
    });
  }

  /** Resolves on the next "open", rejects on a final "close" (a reconnect is under way). */
  function nextOpen(): Promise<WelcomeFrame> {
    return new Promise((resolve, reject) => {
      const offOpen = events.on("open", (e) => {
        offOpen();
        offClose();
        resolve(e.welcome);
      });
      const offClose = events.on("close", (e) => {
        if (e.willReconnect) return;
        offOpen();
        offClose();
        reject(disconnected(`The socket stopped: ${e.reason}`, { code: e.code, reason: e.reason }));
      });
    });
  }

  return {
    connect() {
      if (stopped) return Promise.reject(disconnected("The socket was closed"));
      if (connected && welcome) return Promise.resolve(welcome);
      if (reconnectTimer !== undefined || reconnecting) return nextOpen();
      connecting ??= establish(everOpened).finally(() => {
        connecting = undefined;
      });
      return connecting;
    },
    request,
    send(frame) {
      sendRaw(frame);
      if (frame.type === "room.leave" || frame.type === "unsubscribe") memory.forget(frame.room);
    },
    // A version-1 frame name (peer_added) listens to its version-2 name (peer.added).
    on: (type, handler) => events.on(currentType(type) as typeof type, handler),
    close() {
      if (stopped) return;
      stopped = true;
      if (reconnectTimer !== undefined) clearTimeout(reconnectTimer);
      reconnectTimer = undefined;
      stopHeartbeat();
      const s = ws;
      ws = undefined;
      live = false;
      connected = false;
      cancelAttempt?.(disconnected("The socket was closed"));
      rejectPending(disconnected("The socket was closed"));
      if (s) {
        detach(s);
        s.close(1000, "closed by the client");
      }
      events.emit("close", { code: 1000, reason: "closed by the client", willReconnect: false });
    },
    get connected() {
      return connected;
    },
    get welcome() {
      return welcome;
    },
    get rooms() {
      return memory.list();
    },
  };
}
