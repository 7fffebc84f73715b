/** The idle sockets of a load process (bench/relay/load.ts): opened, sent their first frame, counted. */
import { performance } from "node:perf_hooks";
import { type RawData, WebSocket } from "ws";
import { cpuUs, open, pool, socketOf } from "./load-sockets.js";
import type { CountReport, Mode, OpenReport, SocketSpec } from "./messages.js";

const idle: WebSocket[] = [];
/** idle sockets that have not sent their first frame yet */
const unanswered: { ws: WebSocket; spec: SocketSpec }[] = [];
/** server pings seen and sockets closed since they opened */
let pings = 0;
let closed = 0;

/**
 * Drops every idle socket of this process at once, with a reset (RST) as a client that
 * vanishes does. Closed with FIN, each socket's port sat in TIME_WAIT for a minute, and
 * the next burst of connects from the same 8 addresses waited in the kernel's search for
 * a free port: with the 40,000 a connections run leaves, a storm that takes 3–6 s took
 * 8–15 s in the run after it.
 */
export function dropIdle(): void {
  for (const ws of idle.splice(0)) {
    const socket = socketOf(ws);
    if (socket && !socket.destroyed) socket.resetAndDestroy();
    ws.terminate();
  }
  unanswered.length = 0;
}

export async function openIdle(
  mode: Mode,
  specs: SocketSpec[],
  concurrency: number,
  timeoutMs: number,
  firstFrame: boolean,
): Promise<OpenReport> {
  const cpu0 = cpuUs();
  const start = performance.now();
  let opened = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  let lastOpenMs = 0;
  const failures: Record<string, number> = {};
  await pool(specs, concurrency, start + timeoutMs, async (spec) => {
    try {
      const ws = await open(spec, mode, 15_000);
      // warren closes a socket that sent nothing valid within HANDSHAKE_TIMEOUT (10 s by
      // default): one frame and its answer, then quiet.
      if (firstFrame) await answered(ws, mode, spec, 15_000);
      else unanswered.push({ ws, spec });
      ws.on("ping", () => {
        pings += 1;
      });
      ws.on("close", () => {
        closed += 1;
      });
      idle.push(ws);
      opened += 1;
      lastOpenMs = performance.now() - start;
    } catch (err) {
      failed += 1;
      firstFailure ??= String(err);
      const reason = String(err)
        .replace(/^Error: /, "")
        .slice(0, 60);
      failures[reason] = (failures[reason] ?? 0) + 1;
    }
  });
  const unopened = specs.length - opened - failed;
  if (unopened > 0) failures["not tried before the deadline"] = unopened;
  failed += unopened;
  return {
    opened,
    failed,
    failures,
    lastOpenMs,
    ...(firstFailure !== undefined && { firstFailure }),
    elapsedMs: performance.now() - start,
    cpuUs: cpuUs() - cpu0,
  };
}

/**
 * A socket's first frame and its answer: for warren a ping (answered with a pong), for
 * the bare relays a signal to the socket's own id (relayed back to it), so both servers
 * read one frame and write one in return.
 */
function answered(ws: WebSocket, mode: Mode, spec: SocketSpec, timeoutMs: number): Promise<void> {
  if (mode === "warren") return pong(ws, timeoutMs);
  const id = new URL(spec.url).searchParams.get("id") ?? "";
  return answer(ws, JSON.stringify({ type: "signal", to: id, payload: {} }), '{"type":"signal"', timeoutMs);
}

/** Idle sockets opened without their first frame (`firstFrame: false`), sent it and waited. */
export async function firstFrames(mode: Mode, concurrency: number, timeoutMs: number): Promise<OpenReport> {
  const todo = unanswered.splice(0);
  const cpu0 = cpuUs();
  const start = performance.now();
  let done = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  await pool(todo, concurrency, start + timeoutMs, async ({ ws, spec }) => {
    try {
      await answered(ws, mode, spec, 15_000);
      done += 1;
    } catch (err) {
      failed += 1;
      firstFailure ??= String(err);
    }
  });
  failed += todo.length - done - failed;
  return {
    opened: done,
    failed,
    failures: failed > 0 ? { "no answer to the first frame": failed } : {},
    lastOpenMs: performance.now() - start,
    ...(firstFailure !== undefined && { firstFailure }),
    elapsedMs: performance.now() - start,
    cpuUs: cpuUs() - cpu0,
  };
}

function pong(ws: WebSocket, timeoutMs: number): Promise<void> {
  return answer(ws, '{"type":"ping"}', '{"type":"pong"', timeoutMs);
}

/** Sends `text` and waits for a frame starting with `expected`. */
function answer(ws: WebSocket, text: string, expected: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.off("message", onMessage);
      ws.terminate();
      reject(new Error(`no ${expected.slice(9, -1)} in time`));
    }, timeoutMs);
    const onMessage = (data: RawData) => {
      if (!String(data).startsWith(expected)) return;
      clearTimeout(timer);
      ws.off("message", onMessage);
      resolve();
    };
    ws.on("message", onMessage);
    ws.send(text);
  });
}

export function count(): CountReport {
  let openNow = 0;
  for (const ws of idle) if (ws.readyState === WebSocket.OPEN) openNow += 1;
  return { open: openNow, pings, closed, cpuUs: cpuUs() };
}
