import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { sqliteBackend } from "./helpers/backends.js";
import { register, startTestServer, type TestServer } from "./helpers/server.js";

/**
 * GET /metrics (Prometheus text, with the signaling_* names kept for existing
 * dashboards) and GET /stats (JSON counters, behind STATS_TOKEN), after real REST and
 * WebSocket traffic. The output is checked with `promtool check metrics` (Debian package
 * prometheus). CI sets WARREN_TEST_PROMTOOL, which makes that check mandatory; elsewhere
 * it runs when promtool is on PATH and is left out, with a printed reason, when it is not.
 */

const STATS_TOKEN = "stats-token-for-the-metrics-suite";

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

const REQUIRED_PROMTOOL = process.env.WARREN_TEST_PROMTOOL || undefined;
/** "1"/"true" mean "promtool from PATH, and it must be there"; anything else is its path. */
const PROMTOOL =
  REQUIRED_PROMTOOL && !["1", "true"].includes(REQUIRED_PROMTOOL)
    ? REQUIRED_PROMTOOL
    : (onPath("promtool") ?? (REQUIRED_PROMTOOL ? "promtool" : undefined));
if (!PROMTOOL) {
  console.warn(
    "metrics suite: `promtool check metrics` left out: promtool is not on PATH " +
      "(apt-get install prometheus, or set WARREN_TEST_PROMTOOL=/path/to/promtool; CI requires it)",
  );
}

/** Runs `promtool check metrics` with the text on stdin. */
function promtoolCheck(bin: string, text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ["check", "metrics"], { stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => {
      output += d;
    });
    child.stderr.on("data", (d) => {
      output += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}

interface Client {
  ws: WebSocket;
  frames: Record<string, any>[];
  /** the first frame matching, waiting up to 5 s */
  next(match: (f: Record<string, any>) => boolean): Promise<Record<string, any>>;
}

function connect(url: string, token: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}/v1/ws`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const frames: Record<string, any>[] = [];
    const waiters: (() => void)[] = [];
    ws.on("message", (data) => {
      frames.push(JSON.parse(data.toString()));
      for (const w of waiters.splice(0)) w();
    });
    const next = (match: (f: Record<string, any>) => boolean) =>
      new Promise<Record<string, any>>((res, rej) => {
        const timer = setTimeout(
          () => rej(new Error(`no matching frame in ${JSON.stringify(frames)}`)),
          5000,
        );
        const look = () => {
          const found = frames.find(match);
          if (found) {
            clearTimeout(timer);
            res(found);
          } else waiters.push(look);
        };
        look();
      });
    ws.once("open", () => resolve({ ws, frames, next }));
    ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once("error", reject);
  });
}

/** The value of one sample line (`name{labels} value`), or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const typeOf = (text: string, name: string) => new RegExp(`^# TYPE ${name} (\\w+)$`, "m").exec(text)?.[1];

describe("GET /metrics and GET /stats", () => {
  let t: TestServer;
  let client: Client;
  let text: string;

  beforeAll(async () => {
    t = await startTestServer(sqliteBackend, { STATS_TOKEN });
    // REST traffic: a registration, a sign-in check, a 404.
    const alice = await register(t.api);
    expect((await t.api("GET", "/v1/auth/me", { token: alice.tokens.access_token })).status).toBe(200);
    expect((await t.api("GET", "/v1/nothing-here")).status).toBe(404);

    // A connection that opens and closes, so the duration histogram has an observation.
    const brief = await connect(t.url, alice.tokens.access_token);
    await brief.next((f) => f.type === "welcome");
    brief.ws.close();
    await new Promise((r) => brief.ws.once("close", r));

    // One client that stays: a ping and a room.create.
    client = await connect(t.url, alice.tokens.access_token);
    await client.next((f) => f.type === "welcome");
    client.ws.send(JSON.stringify({ type: "ping", id: "p1" }));
    await client.next((f) => f.type === "pong" && f.re === "p1");
    client.ws.send(JSON.stringify({ type: "room.create", id: "c1", name: "metrics room" }));
    const created = await client.next((f) => f.re === "c1");
    expect(created.type).toBe("result");

    // The server notices the brief socket's close asynchronously: wait until it has.
    for (let i = 0; i < 100; i++) {
      const res = await fetch(`${t.url}/metrics`);
      text = await res.text();
      if (sample(text, "signaling_active_connections") === 1) break;
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  afterAll(async () => {
    client?.ws.close();
    await t?.close();
  });

  it("serves the Prometheus text format without a token", async () => {
    const res = await fetch(`${t.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it("has the signaling_* metrics with the traffic counted", () => {
    expect(typeOf(text, "signaling_active_connections")).toBe("gauge");
    expect(typeOf(text, "signaling_messages_received_total")).toBe("counter");
    expect(typeOf(text, "signaling_messages_sent_total")).toBe("counter");
    expect(typeOf(text, "signaling_rate_limit_exceeded_total")).toBe("counter");
    expect(typeOf(text, "signaling_connection_duration_seconds")).toBe("histogram");

    expect(sample(text, "signaling_active_connections")).toBe(1);
    expect(sample(text, 'signaling_messages_received_total{type="ping"}')).toBe(1);
    expect(sample(text, 'signaling_messages_received_total{type="room.create"}')).toBe(1);
    expect(sample(text, 'signaling_messages_sent_total{type="welcome"}')).toBe(2);
    expect(sample(text, 'signaling_messages_sent_total{type="pong"}')).toBe(1);
    expect(sample(text, 'signaling_messages_sent_total{type="result"}')).toBe(1);
    expect(sample(text, "signaling_rate_limit_exceeded_total")).toBe(0);
    expect(sample(text, "signaling_connection_duration_seconds_count")).toBe(1);
    expect(sample(text, 'signaling_connection_duration_seconds_bucket{le="+Inf"}')).toBe(1);
  });

  it("has the other hub metrics", () => {
    expect(typeOf(text, "signaling_connections_closed_total")).toBe("counter");
    expect(typeOf(text, "signaling_upgrades_rejected_total")).toBe("counter");
    expect(typeOf(text, "warren_rooms_active")).toBe("gauge");
  });

  it("has HTTP request metrics labelled by route pattern", () => {
    expect(typeOf(text, "http_requests_total")).toBe("counter");
    expect(typeOf(text, "http_request_duration_seconds")).toBe("histogram");
    expect(sample(text, 'http_requests_total{method="POST",route="/v1/auth/register",status="201"}')).toBe(1);
    expect(sample(text, 'http_requests_total{method="GET",route="/v1/auth/me",status="200"}')).toBe(1);
    expect(sample(text, 'http_requests_total{method="GET",route="unmatched",status="404"}')).toBe(1);
  });

  it("has process and Node.js metrics", () => {
    for (const name of [
      "process_cpu_seconds_total",
      "process_resident_memory_bytes",
      "process_start_time_seconds",
      "process_open_fds",
      "process_max_fds",
      "nodejs_eventloop_lag_seconds",
      "nodejs_heap_size_used_bytes",
      "nodejs_gc_duration_seconds",
    ]) {
      expect(typeOf(text, name), `${name} is missing`).toBeDefined();
    }
  });

  if (PROMTOOL) {
    const bin = PROMTOOL;
    it("passes `promtool check metrics`", async () => {
      const { code, output } = await promtoolCheck(bin, text);
      expect(code, `promtool check metrics failed:\n${output}`).toBe(0);
    });
  }

  describe("GET /stats", () => {
    it("without a token answers 401 unauthorized", async () => {
      const res = await t.api("GET", "/stats");
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe("unauthorized");
    });

    it("with a wrong token answers 401 invalid_token (header or query)", async () => {
      const header = await t.api("GET", "/stats", { token: "not-the-stats-token" });
      expect(header.status).toBe(401);
      expect(header.body.error.code).toBe("invalid_token");
      const query = await t.api("GET", "/stats?token=not-the-stats-token");
      expect(query.status).toBe(401);
      expect(query.body.error.code).toBe("invalid_token");
    });

    it("with the token as Bearer answers the counters", async () => {
      const res = await t.api("GET", "/stats", { token: STATS_TOKEN });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        connections: { total: 2, active: 1 },
        messages_processed: 2,
        rooms: { active: 1, stored: 1 },
        cleanup: { runs: 0, rooms_removed: 0 },
        users_online: 1,
        uptime_seconds: expect.any(Number),
      });
      expect(Number.isInteger(res.body.uptime_seconds)).toBe(true);
      expect(res.body.uptime_seconds).toBeGreaterThanOrEqual(0);
    });

    it("with the token as ?token= answers 200", async () => {
      const res = await t.api("GET", `/stats?token=${STATS_TOKEN}`);
      expect(res.status).toBe(200);
      expect(res.body.connections.active).toBe(1);
    });
  });
});
