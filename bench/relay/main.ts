import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { type Config, FULL, MODES, QUICK, source, TARGETS } from "./config.js";
import { runIdle } from "./idle.js";
import type { Mode, PairSpec } from "./messages.js";
import { benchPairs } from "./pairs.js";
import { describeCode, describeMachine } from "./proc.js";
import { compare, contextTable, fmt, log, table } from "./report.js";
import { type Results, slot } from "./results.js";
import {
  type Account,
  HOST,
  pin,
  ROOT,
  registerUsers,
  type ServerProcess,
  startBare,
  startWarren,
} from "./servers.js";

async function run(cfg: Config, modes: Mode[]): Promise<Results> {
  const results: Results = {};
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "warren-bench-"));
  const running: ServerProcess[] = [];
  const stop = async (s: ServerProcess) => {
    await s.stop();
    running.splice(running.indexOf(s), 1);
  };
  try {
    let pairUsers: Account[] = [];
    let idleUsers: Account[] = [];
    if (modes.includes("warren")) {
      // Accounts first, on a warren instance of their own, so the measured ones start clean.
      const setup = await startWarren(dataDir);
      running.push(setup);
      const tag = Math.random().toString(36).slice(2, 7);
      const t0 = performance.now();
      log(`warren: registering ${2 * cfg.pairs + cfg.idle} key-only accounts`);
      pairUsers = await registerUsers(setup.port, `bp${tag}`, 2 * cfg.pairs);
      idleUsers = await registerUsers(setup.port, `bi${tag}`, cfg.idle);
      log(`warren: registered in ${fmt((performance.now() - t0) / 1000, 1)} s`);
      await stop(setup);
    }

    // Throughput and latency: both servers up, driven in turns.
    log("throughput and latency");
    const servers: Partial<Record<Mode, ServerProcess>> = {};
    const specs: Partial<Record<Mode, PairSpec[]>> = {};
    for (const floor of ["bare", "corked"] as const) {
      if (!modes.includes(floor)) continue;
      const s = await startBare(floor);
      running.push(s);
      servers[floor] = s;
      const url = `ws://${HOST}:${s.port}/`;
      // The same frames on the wire as warren's: user ids and devices are UUIDs there
      // (a device id defaults to a UUIDv7), so they are here too.
      const ids = Array.from({ length: 2 * cfg.pairs }, (_, i) => pairUsers[i]?.id ?? randomUUID());
      const id = (i: number) => ids[i] as string;
      const client = (i: number) => `${url}?id=${id(i)}&device=${randomUUID()}`;
      specs[floor] = Array.from({ length: cfg.pairs }, (_, i) => ({
        sender: { url: client(2 * i), localAddress: source(2 * i, cfg) },
        receiver: { url: client(2 * i + 1), localAddress: source(2 * i + 1, cfg) },
        to: id(2 * i + 1),
      }));
    }
    if (modes.includes("warren")) {
      const s = await startWarren(dataDir);
      running.push(s);
      servers.warren = s;
      const url = `ws://${HOST}:${s.port}/v1/ws`;
      const auth = (a: Account) => ({ authorization: `Bearer ${a.token}` });
      specs.warren = Array.from({ length: cfg.pairs }, (_, i) => {
        const sender = pairUsers[2 * i] as Account;
        const receiver = pairUsers[2 * i + 1] as Account;
        return {
          sender: { url, headers: auth(sender), localAddress: source(2 * i, cfg) },
          receiver: { url, headers: auth(receiver), localAddress: source(2 * i + 1, cfg) },
          to: receiver.id,
        };
      });
    }
    await benchPairs(servers, specs, cfg, results);
    for (const s of Object.values(servers)) await stop(s);

    // Connections, memory and heartbeats: one fresh server at a time. Corking changes
    // nothing for idle sockets, so the corked relay alone is the floor here.
    log("idle connections");
    if (modes.includes("corked")) {
      const s = await startBare("corked");
      running.push(s);
      const url = `ws://${HOST}:${s.port}/`;
      const idleSpecs = Array.from({ length: cfg.idle }, (_, i) => ({
        url: `${url}?id=i${i}`,
        localAddress: source(i, cfg),
      }));
      slot(results, "corked").idle = await runIdle("corked", s, idleSpecs, cfg, null);
      await stop(s);
    }
    if (modes.includes("warren")) {
      const s = await startWarren(dataDir, { HEARTBEAT_INTERVAL: cfg.heartbeatInterval });
      running.push(s);
      const url = `ws://${HOST}:${s.port}/v1/ws`;
      const idleSpecs = idleUsers.map((a, i) => ({
        url,
        headers: { authorization: `Bearer ${a.token}` },
        localAddress: source(i, cfg),
      }));
      slot(results, "warren").idle = await runIdle("warren", s, idleSpecs, cfg, cfg.heartbeatInterval);
      await stop(s);
    }
    return results;
  } finally {
    await Promise.all(running.map((s) => s.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function runRelay(args: string[]): Promise<void> {
  const quick = args.includes("--quick");
  const only = args.find((a) => a.startsWith("--only="))?.slice("--only=".length);
  if (only !== undefined && only !== "bare" && only !== "corked" && only !== "warren")
    throw new Error("--only takes bare, corked or warren");
  const flags = new Set(["--quick", "--no-write", "--pin"]);
  const unknown = args.filter((a) => !flags.has(a) && !a.startsWith("--only="));
  if (unknown.length) throw new Error(`unknown option ${unknown.join(" ")}`);
  const write = !args.includes("--no-write") && only === undefined;
  const cfg = quick ? QUICK : FULL;
  const modes: Mode[] = only ? [only as Mode] : MODES;
  const machine = describeMachine();
  const pinning =
    args.includes("--pin") && machine.nproc >= 2
      ? { server: "0", load: machine.nproc === 2 ? "1" : `1-${machine.nproc - 1}` }
      : undefined;
  pin(pinning);
  const warrenDir = path.resolve(process.env.BENCH_WARREN_DIR ?? ROOT);
  const code = { warren_dir: warrenDir, ...describeCode(warrenDir) };
  const started = new Date();
  log(
    `relay benchmark${quick ? " (quick)" : ""} on ${machine.nproc}× ${machine.cpu_model}, node ${machine.node}`,
  );
  const t0 = performance.now();
  const results = await run(cfg, modes);
  const { ratios, met, rows } = compare(results);
  const seconds = (performance.now() - t0) / 1000;
  const date = started.toISOString().slice(0, 10);
  const name = `relay-${date}${quick ? "-quick" : ""}`;
  const md = [
    `# Relay benchmark, ${date}${quick ? " (quick)" : ""}`,
    "",
    `${machine.nproc}× ${machine.cpu_model}, ${fmt(machine.mem_total_bytes / 2 ** 30, 1)} GiB, node ${machine.node}, ${machine.kernel}. ` +
      `${cfg.pairs} sender→receiver pairs per server over ${cfg.pairWorkers} load processes (window ${cfg.window}), ` +
      `${cfg.rounds} interleaved rounds per figure (${cfg.latencyRounds} for latency); ${fmt(cfg.idle, 0)} idle connections over ${cfg.idleWorkers} load processes ` +
      `and 127.0.0.1–${cfg.sourceAddresses}${pinning ? `; servers pinned to CPU ${pinning.server}, load to ${pinning.load}` : ""}. ` +
      `warren at ${code.commit}${code.local_changes ? " with local changes" : ""}. ` +
      `Run took ${fmt(seconds, 0)} s. Raw numbers: ${name}.json; method: bench/README.md.`,
    "",
    table(rows),
    "",
    contextTable(results, ratios),
    "",
  ].join("\n");
  process.stdout.write(`\n${md}\n`);
  if (write) {
    const dir = path.join(ROOT, "bench/results");
    mkdirSync(dir, { recursive: true });
    const json = {
      benchmark: "relay",
      started_at: started.toISOString(),
      duration_seconds: seconds,
      code,
      pinning: pinning ?? null,
      machine,
      config: cfg,
      targets: TARGETS,
      results,
      ratios,
      met,
    };
    writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify(json, null, 2)}\n`);
    writeFileSync(path.join(dir, `${name}.md`), md);
    log(`wrote bench/results/${name}.json and .md`);
  }
}
