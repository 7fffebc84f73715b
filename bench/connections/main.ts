/**
 * `npm run bench -- connections`: what a connection costs warren against the corked `ws`
 * relay (the floor), one fresh server at a time: server CPU per accept (from the upgrade
 * request to the welcome) and per first frame after it,
 * heap per idle connection after a full GC, and a reconnect storm (every client drops
 * and all reconnect at once): time until the last one is welcomed, refusals by reason.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { all, Load } from "../relay/load-client.js";
import type { Mode, OpenReport, SocketSpec } from "../relay/messages.js";
import { cpuSeconds, cpuSplit, describeCode, describeMachine, rssBytes, syscalls } from "../relay/proc.js";
import { fmt, log } from "../relay/report.js";
import { sum } from "../relay/results.js";
import {
  type Account,
  HOST,
  ROOT,
  registerUsers,
  type ServerProcess,
  startBare,
  startWarren,
} from "../relay/servers.js";
import { medianOf, runRatios } from "./runs.js";
import { type Figures, TARGETS, table } from "./table.js";

interface Settings {
  quick: boolean;
  /** connections opened for the accept and memory figures */
  connections: number;
  /** of those, how many drop and reconnect at once */
  storm: number;
  workers: number;
  /** connects in flight per load process while measuring the accept cost */
  concurrency: number;
  sourceAddresses: number;
  settleMs: number;
  /** runs of both servers, each on a fresh process, the order alternating (runs.ts) */
  runs: number;
}

const FULL: Settings = {
  quick: false,
  connections: 15_000,
  storm: 10_000,
  workers: 3,
  concurrency: 32,
  sourceAddresses: 8,
  settleMs: 3000,
  runs: 3,
};
const QUICK: Settings = { ...FULL, quick: true, connections: 3000, storm: 2000, settleMs: 1000, runs: 1 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const probeArgs = ["--expose-gc", "--import", path.join(ROOT, "bench/connections/heap-probe.mjs")];

/** Asks the server's heap probe for its memory after a full GC. */
async function heapOf(server: ServerProcess, file: string): Promise<{ heap_used: number; external: number }> {
  rmSync(file, { force: true });
  process.kill(server.pid, "SIGUSR2");
  for (let i = 0; i < 100; i++) {
    await sleep(100);
    try {
      return JSON.parse(readFileSync(file, "utf8"));
    } catch {}
  }
  throw new Error(`${server.name}: no heap report in 10 s`);
}

const merge = (reports: OpenReport[]) => {
  const refused: Record<string, number> = {};
  for (const r of reports)
    for (const [reason, n] of Object.entries(r.failures)) refused[reason] = (refused[reason] ?? 0) + n;
  return { opened: sum(reports.map((r) => r.opened)), failed: sum(reports.map((r) => r.failed)), refused };
};

async function measure(
  mode: Mode,
  server: ServerProcess,
  specs: SocketSpec[],
  heapFile: string,
  cfg: Settings,
): Promise<Figures> {
  const loads = Array.from({ length: cfg.workers }, () => Load.start());
  try {
    const share = (list: SocketSpec[], i: number) => list.filter((_, k) => k % loads.length === i);
    await sleep(1500); // the load processes start; the server settles
    const heap0 = await heapOf(server, heapFile);
    const rss0 = rssBytes(server.pid);
    const cpu0 = cpuSeconds(server.pid);
    const kernel0 = cpuSplit(server.pid).system;
    const io0 = syscalls(server.pid);
    const t0 = performance.now();
    log(`  ${mode}: opening ${specs.length} connections`);
    // Opened without a first frame: the accept is measured from the upgrade request to
    // the welcome (warren) or the open (floor), nothing after.
    const open = (list: SocketSpec[], concurrency: (n: number) => number) =>
      all(
        loads,
        (i) => {
          const mine = share(list, i);
          return {
            cmd: "idle",
            mode,
            sockets: mine,
            concurrency: concurrency(mine.length),
            timeoutMs: 120_000,
            firstFrame: false,
          };
        },
        "open",
        150_000,
      ).then((replies) => replies.map((r) => r.report));
    const opened = merge(await open(specs, () => cfg.concurrency));
    const cpu1 = cpuSeconds(server.pid);
    const kernel1 = cpuSplit(server.pid).system;
    const io1 = syscalls(server.pid);
    const t1 = performance.now();
    // Then each socket's first frame and its answer (warren: ping, pong; floor: a frame
    // relayed back to its sender), measured apart: an idle socket has had one.
    const first = merge(
      (
        await all(
          loads,
          () => ({ cmd: "first-frame", mode, concurrency: cfg.concurrency, timeoutMs: 120_000 }),
          "open",
          150_000,
        )
      ).map((r) => r.report),
    );
    const cpu2 = cpuSeconds(server.pid);
    if (first.failed > 0) log(`  ${mode}: ${first.failed} sockets got no answer to their first frame`);
    await sleep(cfg.settleMs);
    const heap1 = await heapOf(server, heapFile);
    const rss1 = rssBytes(server.pid);
    const n = opened.opened;
    log(
      `  ${mode}: ${n} open in ${fmt((t1 - t0) / 1000, 1)} s; dropping ${cfg.storm} and reconnecting at once`,
    );

    // The storm: every client drops, the server sees them go, then `storm` of them
    // reconnect at once (no connect limit in the load processes, no jitter).
    await all(loads, () => ({ cmd: "drop" }), "ok", 30_000);
    await sleep(3000);
    const stormSpecs = specs.slice(0, cfg.storm);
    const c0 = cpuSeconds(server.pid);
    const reports = await open(stormSpecs, (mine) => mine);
    const c1 = cpuSeconds(server.pid);
    const storm = merge(reports);
    const seconds = Math.max(...reports.map((r) => r.lastOpenMs)) / 1000;
    log(`  ${mode}: ${storm.opened}/${cfg.storm} welcomed again in ${fmt(seconds, 1)} s`);

    // The warm round: the accept again, on a process whose code the first round and
    // the storm made hot (the first round pays the JIT compiler's warm-up too).
    await all(loads, () => ({ cmd: "drop" }), "ok", 30_000);
    await sleep(3000);
    const w0 = cpuSeconds(server.pid);
    const wk0 = cpuSplit(server.pid).system;
    const warm = merge(await open(specs, () => cfg.concurrency));
    const w1 = cpuSeconds(server.pid);
    const wk1 = cpuSplit(server.pid).system;
    if (warm.failed > 0) log(`  ${mode}: ${warm.failed} sockets failed in the warm round`);
    return {
      connections: n,
      failed: opened.failed,
      connect_seconds: (t1 - t0) / 1000,
      server_cpu_us_per_connection: ((cpu1 - cpu0) / n) * 1e6,
      server_cpu_us_per_connection_warm: warm.opened > 0 ? ((w1 - w0) / warm.opened) * 1e6 : Number.NaN,
      server_kernel_us_per_connection: ((kernel1 - kernel0) / n) * 1e6,
      server_kernel_us_per_connection_warm: warm.opened > 0 ? ((wk1 - wk0) / warm.opened) * 1e6 : Number.NaN,
      server_cpu_us_per_first_frame: first.opened > 0 ? ((cpu2 - cpu1) / first.opened) * 1e6 : Number.NaN,
      reads_per_connection: (io1.reads - io0.reads) / n,
      writes_per_connection: (io1.writes - io0.writes) / n,
      heap_before_bytes: heap0.heap_used,
      heap_after_bytes: heap1.heap_used,
      heap_bytes_per_connection: (heap1.heap_used - heap0.heap_used) / n,
      external_bytes_per_connection: (heap1.external - heap0.external) / n,
      rss_bytes_per_connection: (rss1 - rss0) / n,
      storm: {
        clients: cfg.storm,
        welcomed: storm.opened,
        refused: storm.refused,
        seconds,
        server_cpu_seconds: c1 - c0,
        server_cpu_us_per_connection: storm.opened > 0 ? ((c1 - c0) / storm.opened) * 1e6 : Number.NaN,
      },
    };
  } finally {
    await Promise.all(loads.map((l) => l.close()));
  }
}

export async function runConnections(args: string[]): Promise<void> {
  const quick = args.includes("--quick");
  const only = args.find((a) => a.startsWith("--only="))?.slice("--only=".length);
  if (only !== undefined && only !== "corked" && only !== "warren")
    throw new Error("--only takes corked or warren");
  const unknown = args.filter((a) => !["--quick", "--no-write"].includes(a) && !a.startsWith("--only="));
  if (unknown.length) throw new Error(`unknown option ${unknown.join(" ")}`);
  const write = !args.includes("--no-write") && only === undefined;
  const cfg = quick ? QUICK : FULL;
  const machine = describeMachine();
  const code = describeCode(ROOT);
  const started = new Date();
  const t0 = performance.now();
  log(`connections benchmark${quick ? " (quick)" : ""} on ${machine.nproc}× ${machine.cpu_model}`);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "warren-bench-"));
  const heapFile = path.join(dataDir, "heap.json");
  const source = (i: number) => `127.0.0.${1 + (i % cfg.sourceAddresses)}`;
  const runs: Record<"corked" | "warren", Figures[]> = { corked: [], warren: [] };
  const running: ServerProcess[] = [];
  try {
    const corked = async () => {
      const s = await startBare("corked", { env: { BENCH_HEAP_FILE: heapFile }, nodeArgs: probeArgs });
      running.push(s);
      const url = `ws://${HOST}:${s.port}/`;
      const specs = Array.from({ length: cfg.connections }, (_, i) => ({
        url: `${url}?id=c${i}`,
        localAddress: source(i),
      }));
      runs.corked.push(await measure("corked", s, specs, heapFile, cfg));
      await s.stop();
    };
    // One account per connection, registered on a warren of its own (stopped after),
    // so the measured ones start clean. Every client here comes from one of 8 loopback
    // addresses where real ones have their own: the per-address limits are raised.
    let users: Account[] = [];
    if (only !== "corked") {
      const setup = await startWarren(dataDir);
      running.push(setup);
      log(`warren: registering ${cfg.connections} key-only accounts`);
      users = await registerUsers(setup.port, `bc${Date.now() % 100000}`, cfg.connections);
      await setup.stop();
    }
    const warren = async () => {
      // Sockets wait for their first frame until every connection is open: the
      // handshake timeout is raised above the time it takes.
      const env = {
        BENCH_HEAP_FILE: heapFile,
        MAX_PENDING_UPGRADES_PER_ADDRESS: "1000000",
        HANDSHAKE_TIMEOUT: "10m",
      };
      const s = await startWarren(dataDir, env, probeArgs);
      running.push(s);
      const url = `ws://${HOST}:${s.port}/v1/ws`;
      const specs = users.map((a, i) => ({
        url,
        headers: { authorization: `Bearer ${a.token}` },
        localAddress: source(i),
      }));
      runs.warren.push(await measure("warren", s, specs, heapFile, cfg));
      await s.stop();
    };
    for (let r = 0; r < cfg.runs; r++) {
      log(`run ${r + 1} of ${cfg.runs}`);
      const order = r % 2 === 0 ? [corked, warren] : [warren, corked];
      for (const step of order) {
        if ((step === corked && only === "warren") || (step === warren && only === "corked")) continue;
        await step();
      }
    }
  } finally {
    await Promise.all(running.map((s) => s.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  }
  const results = {
    corked: runs.corked.length > 0 ? medianOf(runs.corked) : undefined,
    warren: runs.warren.length > 0 ? medianOf(runs.warren) : undefined,
  };
  const perRun = {
    fresh: runRatios(runs.corked, runs.warren, (f) => f.server_cpu_us_per_connection),
    warm: runRatios(runs.corked, runs.warren, (f) => f.server_cpu_us_per_connection_warm),
  };
  const seconds = (performance.now() - t0) / 1000;
  const date = started.toISOString().slice(0, 10);
  const name = `connections-${date}${quick ? "-quick" : ""}`;
  const md = [
    `# Connections benchmark, ${date}${quick ? " (quick)" : ""}`,
    "",
    `${machine.nproc}× ${machine.cpu_model}, ${fmt(machine.mem_total_bytes / 2 ** 30, 1)} GiB, node ${machine.node}, ${machine.kernel}. ` +
      `${fmt(cfg.connections, 0)} connections over ${cfg.workers} load processes (${cfg.concurrency} connects in flight each) ` +
      `and 127.0.0.1–${cfg.sourceAddresses}; a storm of ${fmt(cfg.storm, 0)} reconnecting at once. ` +
      `${cfg.runs > 1 ? `Median of ${cfg.runs} runs, each server on a fresh process every run, the order alternating. ` : ""}` +
      `warren at ${code.commit}${code.local_changes ? " with local changes" : ""}. Run took ${fmt(seconds, 0)} s. ` +
      `Raw numbers: ${name}.json; method: bench/README.md.`,
    "",
    table(
      results.corked,
      results.warren,
      cfg.runs > 1 && results.corked && results.warren ? perRun : undefined,
    ),
    "",
  ].join("\n");
  process.stdout.write(`\n${md}\n`);
  if (write) {
    const dir = path.join(ROOT, "bench/results");
    mkdirSync(dir, { recursive: true });
    const json = {
      benchmark: "connections",
      started_at: started.toISOString(),
      duration_seconds: seconds,
      code,
      machine,
      config: cfg,
      targets: TARGETS,
      results,
      per_run_ratios: perRun,
      runs,
    };
    writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify(json, null, 2)}\n`);
    writeFileSync(path.join(dir, `${name}.md`), md);
    log(`wrote bench/results/${name}.json and .md`);
  }
}
