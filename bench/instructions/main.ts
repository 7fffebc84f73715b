/**
 * `npm run bench -- instructions`: instructions per relayed frame, warren against the
 * corked ws floor, counted by valgrind's callgrind. Time on a shared 2-core VM moves by
 * 10–25 % between runs; an instruction count for a fixed number of frames repeats within
 * a fraction of a percent, so two versions of the relay path can be told apart by it.
 * It is a development tool, not a target: instructions are not time (cache misses, system
 * calls and the kernel's share are not in it), and under valgrind the server is ~50× slower,
 * so a read brings bigger bursts than on real hardware.
 *
 * Method (bench/README.md): each server is a bundle run under
 * `valgrind --tool=callgrind --instr-atstart=no`; 20 pairs relay 40,000 frames to warm up,
 * then instrumentation is switched on (`callgrind_control -i on`), `--frames` frames are
 * relayed (each sender keeps a burst of 32 in flight), instrumentation is switched off and
 * the server is stopped: callgrind's total (all threads) / frames.
 */
import { execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type WebSocket from "ws";
import { buildTestBundles, removeTestBundles } from "../../scripts/test-bundles.js";
import { describeCode, describeMachine } from "../relay/proc.js";
import { fmt, log } from "../relay/report.js";
import { type Account, freePort, ROOT, registerUsers } from "../relay/servers.js";
import { ACCEPT_WARMUP, measureAccepts } from "./accept.js";
import {
  answering,
  bareBundle,
  envFor,
  type Mode,
  openSocket,
  perUnit,
  startCounted,
  type Totals,
} from "./callgrind.js";

const PAIRS = 20;
/** frames each sender keeps in flight, unless --burst says otherwise */
const BURST = 32;
const WARMUP_FRAMES = 40_000;

interface Pair {
  sender: WebSocket;
  receiver: WebSocket;
  to: string;
}

function request(ws: WebSocket, frame: { id: string; [k: string]: unknown }): Promise<{ result?: unknown }> {
  return new Promise((resolve) => {
    const on = (data: WebSocket.RawData) => {
      const reply = JSON.parse(String(data)) as { re?: string; result?: unknown };
      if (reply.re !== frame.id) return;
      ws.off("message", on);
      resolve(reply);
    };
    ws.on("message", on);
    ws.send(JSON.stringify(frame));
  });
}

/** Relays `total` frames over the pairs, a burst of `size` per sender at a time. */
function relay(pairs: Pair[], total: number, size: number): Promise<void> {
  const per = Math.floor(total / pairs.length);
  const pad = "x".repeat(70);
  return new Promise((done) => {
    let finished = 0;
    for (const p of pairs) {
      let sent = 0;
      let got = 0;
      const prefix = `{"type":"signal","to":${JSON.stringify(p.to)},"payload":{"t":`;
      const burst = () => {
        const n = Math.min(size, per - sent);
        for (let k = 0; k < n; k++) p.sender.send(`${prefix}${performance.now()},"pad":"${pad}"}}`);
        sent += n;
      };
      p.receiver.removeAllListeners("message");
      p.receiver.on("message", () => {
        got += 1;
        if (got === per) {
          finished += 1;
          if (finished === pairs.length) done();
        } else if (got === sent) burst();
      });
      burst();
    }
  });
}

async function measure(
  mode: Mode,
  file: string,
  frames: number,
  burst: number,
  accounts: Account[],
  dataDir: string,
  keep: string | undefined,
): Promise<Totals> {
  const server = await startCounted(file, dataDir, keep);
  try {
    const pairs: Pair[] = [];
    for (let i = 0; i < PAIRS; i++) {
      const a = accounts[2 * i] as Account;
      const b = accounts[2 * i + 1] as Account;
      const sender = await openSocket(mode, server.port, a, true);
      const receiver = await openSocket(mode, server.port, b, true);
      if (mode === "warren") {
        const created = (await request(sender, { type: "room.create", id: "c", name: "bench" })).result as {
          room: { id: string };
        };
        await request(receiver, { type: "room.join", id: "j", room: created.room.id });
      }
      pairs.push({ sender, receiver, to: b.id });
    }
    await relay(pairs, WARMUP_FRAMES, burst);
    server.instrument(true);
    await relay(pairs, frames, burst);
    server.instrument(false);
    for (const p of pairs) {
      p.sender.terminate();
      p.receiver.terminate();
    }
    return perUnit(await server.finish(), frames);
  } finally {
    server.dispose();
  }
}

/** What is counted: per relayed frame (`--frames`) or per accepted connection (`--accepts`). */
interface Count {
  unit: "frame" | "accept";
  n: number;
  /** frames per sender in flight (frames only) */
  burst: number;
}

function countOf(args: string[]): Count {
  const acceptsArg = args.find((a) => a === "--accepts" || a.startsWith("--accepts="));
  const framesArg = args.find((a) => a.startsWith("--frames="));
  const burstArg = args.find((a) => a.startsWith("--burst="));
  if (acceptsArg && (framesArg || burstArg))
    throw new Error("--frames and --burst count frames, --accepts connections: give one or the other");
  const burst = burstArg ? Number(burstArg.slice("--burst=".length)) : BURST;
  if (!Number.isInteger(burst) || burst < 1 || burst > 256)
    throw new Error("--burst takes a whole number from 1 to 256");
  const count: Count = acceptsArg
    ? {
        unit: "accept",
        n: acceptsArg.includes("=") ? Number(acceptsArg.slice("--accepts=".length)) : 2000,
        burst,
      }
    : { unit: "frame", n: framesArg ? Number(framesArg.slice("--frames=".length)) : 100_000, burst };
  if (!Number.isInteger(count.n) || count.n < PAIRS)
    throw new Error(`--${count.unit}s takes a whole number of at least ${PAIRS}`);
  return count;
}

export async function runInstructions(args: string[]): Promise<void> {
  const count = countOf(args);
  // --keep=DIR leaves callgrind's files in DIR/corked and DIR/warren, for callgrind_annotate.
  const keepArg = args.find((a) => a.startsWith("--keep="));
  const keepDir = keepArg ? path.resolve(keepArg.slice("--keep=".length)) : undefined;
  const keep = (mode: Mode) => (keepDir ? path.join(keepDir, mode) : undefined);
  try {
    execFileSync("valgrind", ["--version"], { stdio: "ignore" });
  } catch {
    throw new Error("valgrind is not installed (apt-get install valgrind)");
  }
  const started = Date.now();
  const bundles = await buildTestBundles();
  try {
    const bare = await bareBundle(bundles);
    const warren = path.join(bundles, "bin/warren-server.mjs");
    // Accounts on a plain instance first (no valgrind), as the relay benchmark does.
    const setupPort = await freePort();
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "warren-instr-"));
    const setup = spawn("node", [warren], {
      env: envFor(setupPort, dataDir),
      stdio: ["ignore", "ignore", "inherit"],
    });
    const run = (mode: Mode, file: string, accounts: Account[]) =>
      count.unit === "frame"
        ? measure(mode, file, count.n, count.burst, accounts, dataDir, keep(mode))
        : measureAccepts(mode, file, accounts, dataDir, keep(mode));
    let corked: Totals;
    let result: Totals;
    try {
      let accounts: Account[];
      try {
        await answering(setupPort, 60_000);
        const users = count.unit === "frame" ? 2 * PAIRS : ACCEPT_WARMUP + count.n;
        log(`registering ${users} accounts`);
        accounts = await registerUsers(setupPort, `in${Math.random().toString(36).slice(2, 7)}`, users);
      } finally {
        const exited = new Promise((r) => setup.once("exit", r));
        setup.kill("SIGTERM");
        await exited;
      }
      const floorAccounts = accounts.map(() => ({ id: randomUUID(), token: "" }));
      log(`corked: ${count.n} ${count.unit}s under callgrind`);
      corked = await run("corked", bare, floorAccounts);
      log(`corked: ${fmt(corked.all, 0)} instructions per ${count.unit}; warren next`);
      result = await run("warren", warren, accounts);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
    const what =
      count.unit === "frame"
        ? `${count.n} frames, ${PAIRS} pairs, bursts of ${count.burst}${count.burst === 1 ? " (every frame a read and a write of its own, as at a steady rate)" : ""}`
        : `${count.n} accepts after ${ACCEPT_WARMUP} uninstrumented, 8 in flight, from the upgrade request to the welcome (warren) or the open (floor)`;
    const report = [
      `# Instructions per ${count.unit === "frame" ? "relayed frame" : "accepted connection"}, ${new Date().toISOString().slice(0, 10)}`,
      "",
      `${what}, under callgrind (all threads). warren at ${describeCode(ROOT).commit}. Run took ${fmt((Date.now() - started) / 1000, 0)} s.`,
      "",
      "| threads | corked ws (floor) | warren | warren/floor |",
      "|---|---:|---:|---:|",
      `| all | ${fmt(corked.all, 0)} | ${fmt(result.all, 0)} | ${fmt(result.all / corked.all, 2)}× |`,
      `| main (without V8's compiler and GC helper threads) | ${fmt(corked.main, 0)} | ${fmt(result.main, 0)} | ${fmt(result.main / corked.main, 2)}× |`,
      "",
    ].join("\n");
    process.stdout.write(`${report}\n`);
    if (!args.includes("--no-write")) {
      const dir = path.join(ROOT, "bench/results");
      mkdirSync(dir, { recursive: true });
      const name =
        count.unit === "accept"
          ? "instructions-accept"
          : count.burst === BURST
            ? "instructions"
            : `instructions-burst${count.burst}`;
      const base = path.join(dir, `${name}-${new Date().toISOString().slice(0, 10)}`);
      writeFileSync(`${base}.md`, report);
      const json =
        count.unit === "frame"
          ? {
              frames: count.n,
              pairs: PAIRS,
              burst: count.burst,
              corked,
              warren: result,
              machine: describeMachine(),
            }
          : { accepts: count.n, warmup: ACCEPT_WARMUP, corked, warren: result, machine: describeMachine() };
      writeFileSync(`${base}.json`, `${JSON.stringify(json, null, 2)}\n`);
    }
  } finally {
    removeTestBundles(bundles);
  }
}
