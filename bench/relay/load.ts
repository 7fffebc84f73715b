/**
 * A load process of the relay benchmark (forked by bench/relay/main.ts). It holds
 * sender→receiver pairs and idle sockets for one server under test and runs what the
 * orchestrator asks over IPC. The same code drives warren and the bare relay; only
 * the connection handshake differs (warren: welcome first, then one valid frame).
 *
 * Client-side costs are kept low so that the server is what saturates: no masking
 * (zero mask key), no UTF-8 validation, frames prebuilt as buffers, the senders'
 * sockets corked around each batch, receivers only look at a frame's first bytes.
 */
import type { Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { type RawData, WebSocket } from "ws";
import { count, dropIdle, firstFrames, openIdle } from "./load-idle.js";
import { cpuUs, open, pool, request, socketOf } from "./load-sockets.js";
import type { Command, LatencyReport, Mode, PairSpec, Reply, Snapshot } from "./messages.js";

interface Pair {
  sender: WebSocket;
  receiver: WebSocket;
  socket: Socket;
  inflight: number;
  /** the throughput frame, prebuilt */
  frame: Buffer;
  /** the latency frame around its timestamp */
  prefix: string;
  suffix: string;
}

/** Relayed frames start {"type":"signal" on both servers; errors {"type":"error". */
const SIGNAL = Buffer.from('"signal"');
const ERROR = Buffer.from('"error"');
/** ~100 bytes of payload: {"t":<ms>,"pad":"…"} */
const PAD = "x".repeat(76);
const SEND_TEXT = { binary: false } as const;

/** pairs per server under test; `pairs` is the set being driven */
const pairsOf = new Map<Mode, Pair[]>();
let pairs: Pair[] = [];
let received = 0;
let sent = 0;
let errors = 0;
let firstError: string | undefined;
let phase: "none" | "throughput" | "latency" = "none";

// throughput state
let window = 32;
let low = 16;
let maxBuffered = 1 << 20;
let running = false;
let watchdog: NodeJS.Timeout | undefined;

// latency state
let windowStart = 0;
let windowEnd = 0;
let samples = new Float64Array(0);
let sampleCount = 0;
let receivedInWindow = 0;

function noteError(data: Buffer): void {
  errors += 1;
  firstError ??= data.toString().slice(0, 200);
}

function refill(p: Pair): void {
  if (!running || p.sender.readyState !== WebSocket.OPEN) return;
  if (p.sender.bufferedAmount > maxBuffered) return; // the watchdog tries again
  const n = window - p.inflight;
  if (n <= 0) return;
  p.socket.cork();
  for (let i = 0; i < n; i++) p.sender.send(p.frame, SEND_TEXT);
  p.socket.uncork();
  p.inflight += n;
  sent += n;
}

function attach(p: Pair): void {
  p.receiver.on("message", (data: RawData) => {
    const buf = data as Buffer;
    if (buf.indexOf(SIGNAL) !== 8) return;
    received += 1;
    if (phase === "throughput") {
      p.inflight -= 1;
      if (p.inflight <= low) refill(p);
    } else if (phase === "latency") {
      const now = performance.now();
      const text = buf.toString("latin1");
      const at = text.indexOf('"t":');
      if (at < 0) return;
      const t = Number.parseFloat(text.slice(at + 4, at + 24));
      if (t >= windowStart && t < windowEnd && sampleCount < samples.length) {
        samples[sampleCount++] = now - t;
        receivedInWindow += 1;
      }
    }
  });
  p.sender.on("message", (data: RawData) => {
    const buf = data as Buffer;
    if (buf.indexOf(ERROR) !== 8) return;
    noteError(buf);
    if (phase === "throughput") p.inflight -= 1;
  });
}

async function setupPairs(mode: Mode, specs: PairSpec[], timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  const mine: Pair[] = [];
  pairsOf.set(mode, mine);
  let failure: Error | undefined;
  await pool(specs, 16, deadline, async (spec) => {
    if (failure) return;
    try {
      const sender = await open(spec.sender, mode, 15_000);
      const receiver = await open(spec.receiver, mode, 15_000);
      if (mode === "warren") {
        // Relay needs a shared room: the sender creates one, the receiver joins it.
        const created = await request(sender, { type: "room.create", id: "c", name: "bench" }, 15_000);
        const room = (created.result as { room: { id: string } }).room.id;
        await request(receiver, { type: "room.join", id: "j", room }, 15_000);
      }
      const prefix = `{"type":"signal","to":${JSON.stringify(spec.to)},"payload":{"t":`;
      const suffix = `,"pad":"${PAD}"}}`;
      const p: Pair = {
        sender,
        receiver,
        socket: socketOf(sender),
        inflight: 0,
        frame: Buffer.from(`${prefix}0${suffix}`),
        prefix,
        suffix,
      };
      attach(p);
      mine.push(p);
    } catch (err) {
      failure ??= err as Error;
    }
  });
  if (failure) throw failure;
  if (mine.length !== specs.length)
    throw new Error(`only ${mine.length} of ${specs.length} pairs set up in time`);
}

function snapshot(): Snapshot {
  return {
    received,
    sent,
    errors,
    ...(firstError !== undefined && { firstError }),
    cpuUs: cpuUs(),
    at: performance.now(),
  };
}

function use(mode: Mode): void {
  const mine = pairsOf.get(mode);
  if (!mine?.length) throw new Error(`no ${mode} pairs in this load process`);
  pairs = mine;
}

function startThroughput(mode: Mode, w: number, maxBufferedBytes: number): void {
  use(mode);
  window = w;
  low = Math.floor(w / 2);
  maxBuffered = maxBufferedBytes;
  phase = "throughput";
  running = true;
  for (const p of pairs) refill(p);
  watchdog = setInterval(() => {
    for (const p of pairs) if (p.inflight <= low) refill(p);
  }, 50);
}

async function stopThroughput(drainMs: number): Promise<void> {
  running = false;
  if (watchdog) clearInterval(watchdog);
  const until = performance.now() + drainMs;
  while (performance.now() < until && pairs.some((p) => p.inflight > 0)) await sleep(20);
  for (const p of pairs) p.inflight = 0;
  phase = "none";
}

async function runLatency(mode: Mode, rate: number, warmupMs: number, durationMs: number, drainMs: number) {
  use(mode);
  const cpu0 = cpuUs();
  const start = performance.now();
  windowStart = start + warmupMs;
  windowEnd = windowStart + durationMs;
  samples = new Float64Array(Math.ceil((rate * durationMs) / 1000) + 1000);
  sampleCount = 0;
  receivedInWindow = 0;
  const errors0 = errors;
  phase = "latency";
  const perMs = rate / 1000;
  const maxBurst = Math.max(1, Math.ceil(perMs * 50));
  let offered = 0;
  let sentInWindow = 0;
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      if (now >= windowEnd) {
        resolve();
        return;
      }
      const due = Math.min(Math.floor((now - start) * perMs) - offered, maxBurst);
      const stamp = now.toFixed(4);
      const inWindow = now >= windowStart;
      for (let i = 0; i < due; i++) {
        const p = pairs[next] as Pair;
        next = (next + 1) % pairs.length;
        p.sender.send(p.prefix + stamp + p.suffix);
        offered += 1;
        sent += 1;
        if (inWindow) sentInWindow += 1;
      }
      setTimeout(tick, 1);
    };
    tick();
  });
  await sleep(drainMs);
  phase = "none";
  const out: number[] = new Array(sampleCount);
  for (let i = 0; i < sampleCount; i++) out[i] = Math.round((samples[i] ?? 0) * 1000) / 1000;
  const report: LatencyReport = {
    samples: out,
    sentInWindow,
    receivedInWindow,
    errors: errors - errors0,
    ...(firstError !== undefined && { firstError }),
    offeredRate: (sentInWindow / durationMs) * 1000,
    cpuUs: cpuUs() - cpu0,
  };
  return report;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function reply(r: Reply): void {
  process.send?.(r);
}

async function handle(c: Command): Promise<void> {
  try {
    switch (c.cmd) {
      case "pairs":
        await setupPairs(c.mode, c.pairs, c.timeoutMs);
        return reply({ re: c.rid, kind: "ok" });
      case "throughput.start":
        startThroughput(c.mode, c.window, c.maxBufferedBytes);
        return reply({ re: c.rid, kind: "ok" });
      case "snapshot":
        return reply({ re: c.rid, kind: "snapshot", snapshot: snapshot() });
      case "throughput.stop":
        await stopThroughput(c.drainMs);
        return reply({ re: c.rid, kind: "snapshot", snapshot: snapshot() });
      case "latency":
        return reply({
          re: c.rid,
          kind: "latency",
          report: await runLatency(c.mode, c.rate, c.warmupMs, c.durationMs, c.drainMs),
        });
      case "idle":
        return reply({
          re: c.rid,
          kind: "open",
          report: await openIdle(c.mode, c.sockets, c.concurrency, c.timeoutMs, c.firstFrame ?? true),
        });
      case "first-frame":
        return reply({
          re: c.rid,
          kind: "open",
          report: await firstFrames(c.mode, c.concurrency, c.timeoutMs),
        });
      case "count":
        return reply({ re: c.rid, kind: "count", report: count() });
      case "drop":
        dropIdle();
        return reply({ re: c.rid, kind: "ok" });
      case "close":
        running = false;
        if (watchdog) clearInterval(watchdog);
        for (const mine of pairsOf.values()) {
          for (const p of mine) {
            p.sender.terminate();
            p.receiver.terminate();
          }
        }
        dropIdle();
        process.send?.({ re: c.rid, kind: "ok" } satisfies Reply, () => process.exit(0));
        return;
    }
  } catch (err) {
    reply({ re: c.rid, kind: "ok", error: err instanceof Error ? err.message : String(err) });
  }
}

process.on("message", (c: Command) => void handle(c));
// Never outlive the orchestrator.
process.on("disconnect", () => process.exit(0));
