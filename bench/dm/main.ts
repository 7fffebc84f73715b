/**
 * `npm run bench -- dm`: direct messages end to end. A sender's `dm.send` over its hub
 * socket is stored (the server acknowledges only once the message and its copy are
 * committed) and delivered to the recipient's online device as a `dm` frame. Measured on
 * SQLite and on PostgreSQL: acknowledged messages per second at saturation with the
 * server's CPU per message, and the acknowledgement and delivery latency at a paced rate.
 * Messages are sealed (HPKE) and signed (Ed25519) before the load starts, so the load
 * measures the server, not the client's crypto.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { PROTOCOL_VERSION, subprotocolOf } from "@warren/protocol";
import WebSocket from "ws";
import { createDatabase } from "../cluster/backends.js";
import { cpuSeconds, describeCode, describeMachine } from "../relay/proc.js";
import { fmt, log } from "../relay/report.js";
import { percentile } from "../relay/results.js";
import { HOST, ROOT, startWarren } from "../relay/servers.js";
import { type DmAccount, dmAccount, sealedMessage } from "./sealed.js";

interface DmConfig {
  pairs: number;
  /** messages per sender at saturation, and frames each keeps in flight */
  perSender: number;
  window: number;
  /** paced load for latency: messages per second over all senders, for this long */
  rate: number;
  rateSeconds: number;
}
// The paced rate stays well below what one 2-core machine stores (~300-750 msg/s on
// SQLite in trial runs), so its latency is the path's, not a queue's.
const FULL: DmConfig = { pairs: 50, perSender: 100, window: 8, rate: 200, rateSeconds: 10 };
const QUICK: DmConfig = { pairs: 20, perSender: 50, window: 8, rate: 100, rateSeconds: 5 };

type Body = Awaited<ReturnType<typeof sealedMessage>>;

interface Socket {
  ws: WebSocket;
  /** called with each frame after the welcome */
  on: (frame: { type: string; re?: string; client_msg_id?: string; code?: string }) => void;
}

function open(port: number, a: DmAccount): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(
      `ws://${HOST}:${port}/v1/ws?device=${a.device}`,
      [subprotocolOf(PROTOCOL_VERSION)],
      {
        headers: { authorization: `Bearer ${a.token}` },
      },
    );
    const socket: Socket = { ws, on: () => {} };
    const timer = setTimeout(() => reject(new Error("no welcome in 30 s")), 30_000);
    ws.on("message", (data) => {
      const frame = JSON.parse(String(data));
      if (frame.type === "welcome") {
        clearTimeout(timer);
        ws.send('{"type":"ping"}');
        resolve(socket);
        return;
      }
      socket.on(frame);
    });
    ws.on("error", reject);
  });
}

interface Phase {
  sent: number;
  acked: number;
  delivered: number;
  errors: number;
  seconds: number;
  server_cpu_s: number;
  ack_ms: Float64Array;
  delivery_ms: Float64Array;
}

/**
 * Sends `bodies[i]` from pair i's sender: all at once with `window` in flight each
 * (saturation), or paced at `rate` per second in 1 ms ticks round-robin over senders.
 */
async function drive(
  pairs: { sender: Socket; receiver: Socket; bodies: Body[] }[],
  pid: number,
  mode: { window: number } | { rate: number },
): Promise<Phase> {
  const total = pairs.reduce((n, p) => n + p.bodies.length, 0);
  const sentAt = new Map<string, number>();
  const ack: number[] = [];
  const delivery: number[] = [];
  let acked = 0;
  let delivered = 0;
  let errors = 0;
  let seq = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => {
    done = r;
  });
  const check = () => {
    if (acked + errors >= total && delivered + errors >= total) done();
  };
  const next = pairs.map(() => 0);
  const send = (i: number) => {
    const p = pairs[i];
    const k = next[i] ?? 0;
    if (!p || k >= p.bodies.length) return false;
    next[i] = k + 1;
    const body = p.bodies[k] as Body;
    const id = `m${seq++}`;
    sentAt.set(body.client_msg_id, performance.now());
    p.sender.ws.send(JSON.stringify({ ...body, id }));
    return true;
  };
  pairs.forEach((p, i) => {
    p.sender.on = (f) => {
      if (f.type === "result" || f.type === "error") {
        if (f.type === "error") errors += 1;
        else acked += 1;
        const t =
          f.type === "result"
            ? sentAt.get((f as { result?: { client_msg_id?: string } }).result?.client_msg_id ?? "")
            : undefined;
        if (t !== undefined) ack.push(performance.now() - t);
        if ("window" in mode) send(i);
        check();
      }
    };
    p.receiver.on = (f) => {
      if (f.type !== "dm") return;
      const t = sentAt.get(f.client_msg_id ?? "");
      if (t !== undefined) delivery.push(performance.now() - t);
      delivered += 1;
      check();
    };
  });
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  if ("window" in mode) {
    for (let i = 0; i < pairs.length; i++) for (let w = 0; w < mode.window; w++) send(i);
  } else {
    let owed = 0;
    let turn = 0;
    timer = setInterval(() => {
      owed += mode.rate / 1000;
      for (; owed >= 1; owed -= 1) {
        let tries = 0;
        while (tries < pairs.length && !send(turn++ % pairs.length)) tries++;
        if (tries >= pairs.length) clearInterval(timer);
      }
    }, 1);
  }
  const limit = setTimeout(() => done(), 120_000);
  await finished;
  clearTimeout(limit);
  clearInterval(timer);
  const seconds = (performance.now() - t0) / 1000;
  const sorted = (xs: number[]) => Float64Array.from(xs).sort();
  return {
    sent: seq,
    acked,
    delivered,
    errors,
    seconds,
    server_cpu_s: cpuSeconds(pid) - cpu0,
    ack_ms: sorted(ack),
    delivery_ms: sorted(delivery),
  };
}

async function onBackend(name: "sqlite" | "postgres", cfg: DmConfig) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "warren-bench-dm-"));
  const database = name === "postgres" ? await createDatabase() : undefined;
  const server = await startWarren(dataDir, database ? { DATABASE_URL: database.url } : {});
  const sockets: WebSocket[] = [];
  try {
    log(`${name}: ${2 * cfg.pairs} accounts with message keys`);
    const accounts: DmAccount[] = [];
    for (let i = 0; i < 2 * cfg.pairs; i += 8) {
      const batch = Array.from({ length: Math.min(8, 2 * cfg.pairs - i) }, (_, k) =>
        dmAccount(server.port, `dm${Date.now().toString(36)}${i + k}`),
      );
      accounts.push(...(await Promise.all(batch)));
    }
    const pairs: { from: DmAccount; to: DmAccount; sender: Socket; receiver: Socket }[] = [];
    for (let i = 0; i < cfg.pairs; i++) {
      const from = accounts[2 * i] as DmAccount;
      const to = accounts[2 * i + 1] as DmAccount;
      // Strangers may not message each other: every pair shares an open community.
      const tenant = await fetch(`http://${HOST}:${server.port}/v1/tenants`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${from.token}` },
        body: JSON.stringify({ name: `dm-bench-${i}`, access: "open", visibility: "public" }),
      }).then((r) => r.json() as Promise<{ id: string }>);
      await fetch(`http://${HOST}:${server.port}/v1/tenants/${tenant.id}/join`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${to.token}` },
        body: "{}",
      });
      const [sender, receiver] = await Promise.all([open(server.port, from), open(server.port, to)]);
      sockets.push(sender.ws, receiver.ws);
      pairs.push({ from, to, sender, receiver });
    }
    const seal = async (count: number) => {
      const out: Body[][] = pairs.map(() => []);
      for (let k = 0; k < count; k++) {
        const p = pairs[k % pairs.length];
        if (p)
          out[k % pairs.length]?.push(await sealedMessage(p.from, p.to, `message ${k} ${"x".repeat(100)}`));
      }
      return out;
    };
    log(`${name}: sealing ${cfg.pairs * cfg.perSender} + ${cfg.rate * cfg.rateSeconds} messages`);
    const satBodies = await seal(cfg.pairs * cfg.perSender);
    const rateBodies = await seal(cfg.rate * cfg.rateSeconds);
    // Warm-up: a few messages per pair, not measured.
    await drive(
      pairs.map((p, i) => ({ ...p, bodies: (satBodies[i] ?? []).splice(0, 5) })),
      server.pid,
      { window: 2 },
    );
    log(`${name}: saturation, ${cfg.window} in flight per sender`);
    const saturation = await drive(
      pairs.map((p, i) => ({ ...p, bodies: satBodies[i] ?? [] })),
      server.pid,
      { window: cfg.window },
    );
    log(`${name}: paced at ${cfg.rate} msg/s for ${cfg.rateSeconds} s`);
    const paced = await drive(
      pairs.map((p, i) => ({ ...p, bodies: rateBodies[i] ?? [] })),
      server.pid,
      { rate: cfg.rate },
    );
    return { saturation, paced };
  } finally {
    for (const ws of sockets) ws.terminate();
    await server.stop();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The newest committed relay results: warren's figures, for scale. */
function latestRelay(): { file: string; throughput?: number; p99?: number } | undefined {
  const dir = path.join(ROOT, "bench/results");
  const file = readdirSync(dir)
    .filter((f) => /^relay-\d{4}-\d{2}-\d{2}\.json$/.test(f))
    .sort()
    .pop();
  if (!file) return undefined;
  const json = JSON.parse(readFileSync(path.join(dir, file), "utf8"));
  return {
    file,
    throughput: json.results?.warren?.throughput?.messages_per_second,
    p99: json.results?.warren?.latency?.p99_ms,
  };
}

export async function runDm(args: string[]): Promise<void> {
  const quick = args.includes("--quick");
  const write = !args.includes("--no-write");
  const unknown = args.filter((a) => a !== "--quick" && a !== "--no-write");
  if (unknown.length) throw new Error(`unknown option ${unknown.join(" ")}`);
  const cfg = quick ? QUICK : FULL;
  const machine = describeMachine();
  const started = new Date();
  const results: Record<string, Awaited<ReturnType<typeof onBackend>>> = {};
  for (const name of ["sqlite", "postgres"] as const) {
    try {
      results[name] = await onBackend(name, cfg);
    } catch (err) {
      if (name === "sqlite") throw err;
      log(`postgres: skipped (${(err as Error).message})`);
    }
  }
  const relay = latestRelay();
  const row = (name: string, r: Awaited<ReturnType<typeof onBackend>>) => {
    const s = r.saturation;
    const p = r.paced;
    return `| ${name} | ${fmt(s.acked / s.seconds, 0)} | ${fmt((s.server_cpu_s / Math.max(1, s.acked)) * 1e6, 0)} µs | ${fmt(percentile(p.ack_ms, 50), 2)} / ${fmt(percentile(p.ack_ms, 99), 2)} ms | ${fmt(percentile(p.delivery_ms, 50), 2)} / ${fmt(percentile(p.delivery_ms, 99), 2)} ms | ${s.errors + p.errors} |`;
  };
  const date = started.toISOString().slice(0, 10);
  const name = `dm-${date}${quick ? "-quick" : ""}`;
  const md = [
    `# Direct message benchmark, ${date}${quick ? " (quick)" : ""}`,
    "",
    `${machine.nproc}× ${machine.cpu_model}, node ${machine.node}. ${cfg.pairs} sender→recipient pairs on one server, each recipient online; ` +
      `saturation: ${cfg.perSender} messages per sender, ${cfg.window} in flight each; latency: ${cfg.rate} msg/s for ${cfg.rateSeconds} s. ` +
      `A message is acknowledged once stored (message and copy committed), then delivered live. warren at ${describeCode(ROOT).commit}.`,
    "",
    "| backend | acknowledged msg/s at saturation | server CPU per message | ack p50 / p99 at the paced rate | delivery p50 / p99 | errors |",
    "|---|---:|---:|---:|---:|---:|",
    ...Object.entries(results).map(([n, r]) => row(n, r)),
    "",
    relay
      ? `For scale, the relay (no storage) in ${relay.file}: ${fmt(relay.throughput ?? Number.NaN, 0)} msg/s at saturation, p99 ${fmt(relay.p99 ?? Number.NaN, 2)} ms at 20,000 msg/s.`
      : "",
    "",
  ].join("\n");
  process.stdout.write(`\n${md}\n`);
  if (write) {
    const dir = path.join(ROOT, "bench/results");
    mkdirSync(dir, { recursive: true });
    const plain = Object.fromEntries(
      Object.entries(results).map(([n, r]) => [
        n,
        Object.fromEntries(
          Object.entries(r).map(([k, v]) => [
            k,
            {
              ...v,
              ack_ms: undefined,
              delivery_ms: undefined,
              ack_p50_ms: percentile(v.ack_ms, 50),
              ack_p99_ms: percentile(v.ack_ms, 99),
              delivery_p50_ms: percentile(v.delivery_ms, 50),
              delivery_p99_ms: percentile(v.delivery_ms, 99),
            },
          ]),
        ),
      ]),
    );
    const json = {
      benchmark: "dm",
      started_at: started.toISOString(),
      machine,
      config: cfg,
      results: plain,
      relay,
    };
    writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify(json, null, 2)}\n`);
    writeFileSync(path.join(dir, `${name}.md`), md);
    log(`wrote bench/results/${name}.json and .md`);
  }
}
