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
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import WebSocket from "ws";
import { buildTestBundles, removeTestBundles } from "../../scripts/test-bundles.js";
import { describeCode, describeMachine } from "../relay/proc.js";
import { fmt, log } from "../relay/report.js";
import { type Account, freePort, HOST, nodeArgs, ROOT, registerUsers, warrenEnv } from "../relay/servers.js";

const PAIRS = 20;
const BURST = 32;
const WARMUP_FRAMES = 40_000;
type Mode = "corked" | "warren";

async function answering(port: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const res = await fetch(`http://${HOST}:${port}/health`, { signal: AbortSignal.timeout(3000) });
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`no answer on port ${port} within ${ms / 1000} s`);
}

/** warren's benchmark environment; the bare relay reads PORT, HOST and BARE_CORK of it. */
const envFor = (port: number, dataDir: string) =>
  warrenEnv(port, dataDir, { HANDSHAKE_TIMEOUT: "120s", BARE_CORK: "1" });

/** The bare relay as one file, so valgrind starts plain node on it. */
async function bareBundle(dir: string): Promise<string> {
  const { build } = await import("esbuild");
  const file = path.join(dir, "bare-relay.mjs");
  await build({
    entryPoints: [path.join(ROOT, "bench/bare-relay.ts")],
    outfile: file,
    bundle: true,
    platform: "node",
    format: "esm",
    external: ["bufferutil", "utf-8-validate"],
    banner: {
      js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);',
    },
    logLevel: "warning",
  });
  return file;
}

interface Pair {
  sender: WebSocket;
  receiver: WebSocket;
  to: string;
}

function open(mode: Mode, port: number, account: Account): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const url =
      mode === "warren"
        ? `ws://${HOST}:${port}/v1/ws`
        : `ws://${HOST}:${port}/?id=${account.id}&device=${randomUUID()}`;
    const headers: Record<string, string> =
      mode === "warren" ? { authorization: `Bearer ${account.token}` } : {};
    const ws = new WebSocket(url, ["warren.v2"], { headers, perMessageDeflate: false });
    ws.once("error", reject);
    if (mode === "corked") ws.once("open", () => resolve(ws));
    else
      ws.once("message", () => {
        ws.send('{"type":"ping"}');
        resolve(ws);
      });
  });
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

/** Relays `total` frames over the pairs, a burst of BURST per sender at a time. */
function relay(pairs: Pair[], total: number): Promise<void> {
  const per = Math.floor(total / pairs.length);
  const pad = "x".repeat(70);
  return new Promise((done) => {
    let finished = 0;
    for (const p of pairs) {
      let sent = 0;
      let got = 0;
      const prefix = `{"type":"signal","to":${JSON.stringify(p.to)},"payload":{"t":`;
      const burst = () => {
        const n = Math.min(BURST, per - sent);
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
  accounts: Account[],
  dataDir: string,
  keep: string | undefined,
): Promise<number> {
  const port = await freePort();
  const outDir = keep ? path.join(keep, mode) : mkdtempSync(path.join(os.tmpdir(), "warren-callgrind-"));
  mkdirSync(outDir, { recursive: true });
  // callgrind_control finds the process by a name that holds $HOST: give both the same.
  const control = (instrumentation: "on" | "off", pid: number) =>
    execFileSync("callgrind_control", ["-i", instrumentation, String(pid)], {
      stdio: "ignore",
      env: { ...process.env, HOST },
    });
  const server = spawn(
    "valgrind",
    [
      "--tool=callgrind",
      "--instr-atstart=no",
      `--callgrind-out-file=${outDir}/callgrind.%p`,
      "node",
      // BENCH_SERVER_NODE_ARGS=--perf-basic-prof: /tmp/perf-<pid>.map names the JIT code's addresses
      ...nodeArgs,
      file,
    ],
    { env: envFor(port, dataDir), stdio: ["ignore", "ignore", "ignore"] },
  );
  try {
    await answering(port, 300_000);
    const pairs: Pair[] = [];
    for (let i = 0; i < PAIRS; i++) {
      const a = accounts[2 * i] as Account;
      const b = accounts[2 * i + 1] as Account;
      const sender = await open(mode, port, a);
      const receiver = await open(mode, port, b);
      if (mode === "warren") {
        const created = (await request(sender, { type: "room.create", id: "c", name: "bench" })).result as {
          room: { id: string };
        };
        await request(receiver, { type: "room.join", id: "j", room: created.room.id });
      }
      pairs.push({ sender, receiver, to: b.id });
    }
    await relay(pairs, WARMUP_FRAMES);
    control("on", server.pid as number);
    await relay(pairs, frames);
    control("off", server.pid as number);
    for (const p of pairs) {
      p.sender.terminate();
      p.receiver.terminate();
    }
    const exited = new Promise((r) => server.once("exit", r));
    server.kill("SIGTERM");
    await exited;
    let total = 0;
    for (const f of readdirSync(outDir)) {
      const m = readFileSync(path.join(outDir, f), "utf8").match(/^totals: (\d+)/m);
      if (m) total = Math.max(total, Number(m[1]));
    }
    if (total === 0) throw new Error("callgrind wrote no totals");
    return total / frames;
  } finally {
    server.kill("SIGKILL");
    if (!keep) rmSync(outDir, { recursive: true, force: true });
  }
}

export async function runInstructions(args: string[]): Promise<void> {
  const framesArg = args.find((a) => a.startsWith("--frames="));
  const frames = framesArg ? Number(framesArg.slice("--frames=".length)) : 100_000;
  if (!Number.isInteger(frames) || frames < PAIRS) throw new Error("--frames takes a whole number of frames");
  // --keep=DIR leaves callgrind's files in DIR/corked and DIR/warren, for callgrind_annotate.
  const keepArg = args.find((a) => a.startsWith("--keep="));
  const keep = keepArg ? path.resolve(keepArg.slice("--keep=".length)) : undefined;
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
    let accounts: Account[];
    let corked: number;
    let result: number;
    try {
      try {
        await answering(setupPort, 60_000);
        accounts = await registerUsers(setupPort, `in${Math.random().toString(36).slice(2, 7)}`, 2 * PAIRS);
      } finally {
        const exited = new Promise((r) => setup.once("exit", r));
        setup.kill("SIGTERM");
        await exited;
      }
      const floorAccounts = accounts.map(() => ({ id: randomUUID(), token: "" }));
      log(`corked: ${frames} frames under callgrind`);
      corked = await measure("corked", bare, frames, floorAccounts, dataDir, keep);
      log(`corked: ${fmt(corked, 0)} instructions per frame; warren next`);
      result = await measure("warren", warren, frames, accounts, dataDir, keep);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
    const report = [
      `# Instructions per relayed frame, ${new Date().toISOString().slice(0, 10)}`,
      "",
      `${frames} frames, ${PAIRS} pairs, bursts of ${BURST}, under callgrind (all threads). warren at ${describeCode(ROOT).commit}. Run took ${fmt((Date.now() - started) / 1000, 0)} s.`,
      "",
      "| corked ws (floor) | warren | warren/floor |",
      "|---:|---:|---:|",
      `| ${fmt(corked, 0)} | ${fmt(result, 0)} | ${fmt(result / corked, 2)}× |`,
      "",
    ].join("\n");
    process.stdout.write(`${report}\n`);
    if (!args.includes("--no-write")) {
      const dir = path.join(ROOT, "bench/results");
      mkdirSync(dir, { recursive: true });
      const base = path.join(dir, `instructions-${new Date().toISOString().slice(0, 10)}`);
      writeFileSync(`${base}.md`, report);
      const json = { frames, pairs: PAIRS, burst: BURST, corked, warren: result, machine: describeMachine() };
      writeFileSync(`${base}.json`, `${JSON.stringify(json, null, 2)}\n`);
    }
  } finally {
    removeTestBundles(bundles);
  }
}
