/**
 * A server bundle run under valgrind's callgrind with instrumentation off until asked:
 * what both instruction counts (per relayed frame, per accept) start from.
 */
import { execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import WebSocket from "ws";
import { type Account, freePort, HOST, nodeArgs, ROOT, warrenEnv } from "../relay/servers.js";

export type Mode = "corked" | "warren";

export async function answering(port: number, ms: number): Promise<void> {
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

/**
 * warren's benchmark environment; the bare relay reads PORT, HOST and BARE_CORK of it.
 * Sockets may wait for their first frame while the rest open (valgrind is slow), and
 * every client comes from one address: the per-address limits are raised. Under
 * valgrind a count takes minutes: heartbeats (the floor has none) would ping every open
 * socket during it, so they are 10 minutes apart.
 */
export const envFor = (port: number, dataDir: string) =>
  warrenEnv(port, dataDir, {
    HANDSHAKE_TIMEOUT: "10m",
    HEARTBEAT_INTERVAL: "10m",
    MAX_PENDING_UPGRADES_PER_ADDRESS: "1000000",
    BARE_CORK: "1",
  });

/**
 * A socket on `mode`'s server, resolved once it is usable: the open (floor) or the
 * welcome (warren). `ping`: warren's socket then sends its first frame, which it must
 * send within HANDSHAKE_TIMEOUT.
 */
export function openSocket(mode: Mode, port: number, account: Account, ping = false): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const url =
      mode === "warren"
        ? `ws://${HOST}:${port}/v1/ws`
        : `ws://${HOST}:${port}/?id=${account.id}&device=${randomUUID()}`;
    const headers: Record<string, string> =
      mode === "warren" ? { authorization: `Bearer ${account.token}` } : {};
    const ws = new WebSocket(url, ["warren.v2"], { headers, perMessageDeflate: false });
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade answered ${res.statusCode}`)));
    if (mode === "corked") ws.once("open", () => resolve(ws));
    else
      ws.once("message", () => {
        if (ping) ws.send('{"type":"ping"}');
        resolve(ws);
      });
  });
}

/** The bare relay as one file, so valgrind starts plain node on it. */
export async function bareBundle(dir: string): Promise<string> {
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

export interface Totals {
  all: number;
  /** the event loop's thread: JavaScript and what runs on it, without V8's helper threads (compiler, GC) */
  main: number;
}

export const perUnit = (t: Totals, n: number): Totals => ({ all: t.all / n, main: t.main / n });

export interface Counted {
  port: number;
  /** instrumentation on or off (callgrind_control -i) */
  instrument(on: boolean): void;
  /** stops the server: callgrind's instructions while instrumented, all threads and the main thread's */
  finish(): Promise<Totals>;
  /** kills the server if it still runs and removes callgrind's files unless kept */
  dispose(): void;
}

/** Starts `file` (a server bundle) under callgrind, instrumentation off, and waits for /health. */
export async function startCounted(
  file: string,
  dataDir: string,
  keep: string | undefined,
): Promise<Counted> {
  const port = await freePort();
  const outDir = keep ?? mkdtempSync(path.join(os.tmpdir(), "warren-callgrind-"));
  mkdirSync(outDir, { recursive: true });
  const server = spawn(
    "valgrind",
    [
      "--tool=callgrind",
      "--instr-atstart=no",
      "--separate-threads=yes",
      `--callgrind-out-file=${outDir}/callgrind.%p`,
      "node",
      // BENCH_SERVER_NODE_ARGS=--perf-basic-prof: /tmp/perf-<pid>.map names the JIT code's addresses
      ...nodeArgs,
      file,
    ],
    { env: envFor(port, dataDir), stdio: ["ignore", "ignore", "ignore"] },
  );
  const dispose = () => {
    server.kill("SIGKILL");
    if (!keep) rmSync(outDir, { recursive: true, force: true });
  };
  try {
    await answering(port, 300_000);
  } catch (err) {
    dispose();
    throw err;
  }
  return {
    port,
    instrument(on) {
      // callgrind_control finds the process by a name that holds $HOST: give both the same.
      execFileSync("callgrind_control", ["-i", on ? "on" : "off", String(server.pid)], {
        stdio: "ignore",
        env: { ...process.env, HOST },
      });
    },
    async finish() {
      const exited = new Promise((r) => server.once("exit", r));
      server.kill("SIGTERM");
      await exited;
      // One file per thread (callgrind.<pid>-<thread>); thread 1 is the main thread. A
      // process may have dumped a part more than once: the largest total per thread counts.
      const threads = new Map<number, number>();
      for (const f of readdirSync(outDir)) {
        const thread = Number(f.match(/-(\d+)$/)?.[1] ?? 1);
        const m = readFileSync(path.join(outDir, f), "utf8").match(/^totals: (\d+)/m);
        if (m) threads.set(thread, Math.max(threads.get(thread) ?? 0, Number(m[1])));
      }
      const all = [...threads.values()].reduce((a, b) => a + b, 0);
      if (all === 0) throw new Error("callgrind wrote no totals");
      return { all, main: threads.get(1) ?? 0 };
    },
    dispose,
  };
}
