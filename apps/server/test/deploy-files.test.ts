import { execFile } from "node:child_process";
import { accessSync, chmodSync, constants, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { SETTINGS } from "../src/config.js";
import { sqliteBackend } from "./helpers/backends.js";
import { REPO, tempDir } from "./helpers/process.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

/**
 * The deployment files, checked as far as a machine without a container engine or a
 * running systemd allows: the Dockerfile and compose files are parsed and every setting
 * they pass must be one the server reads (a misspelt name would be silently ignored);
 * the systemd units go through `systemd-analyze verify` where it exists; the alert rules
 * through `promtool check rules`; every metric the dashboard and the rules query must be
 * one a real server exports.
 */

const run = promisify(execFile);
const read = (file: string) => readFileSync(path.join(REPO, file), "utf8");
const KNOWN = new Set<string>(SETTINGS.map((s) => s.env));

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    try {
      accessSync(path.join(dir, name), constants.X_OK);
      return path.join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

// CI sets WARREN_TEST_PROMTOOL ("1" or a path) and must then have it.
const REQUIRED_PROMTOOL = process.env.WARREN_TEST_PROMTOOL || undefined;
const PROMTOOL =
  REQUIRED_PROMTOOL && !["1", "true"].includes(REQUIRED_PROMTOOL)
    ? REQUIRED_PROMTOOL
    : (onPath("promtool") ?? (REQUIRED_PROMTOOL ? "promtool" : undefined));
const SYSTEMD_ANALYZE = onPath("systemd-analyze");
if (!PROMTOOL) console.warn("deploy files: `promtool check rules` left out: promtool is not on PATH");
if (!SYSTEMD_ANALYZE)
  console.warn("deploy files: `systemd-analyze verify` left out: systemd-analyze is not on PATH");

/** Dockerfile instructions, continuation lines joined, comments dropped. */
function dockerInstructions(text: string): { op: string; args: string }[] {
  const joined = text
    .split("\n")
    .filter((l) => !/^\s*#/.test(l))
    .join("\n")
    .replace(/\\\n/g, " ");
  return joined
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const [op = "", ...rest] = l.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(" ") };
    });
}

/** KEY=value pairs of a Dockerfile ENV instruction. */
function envKeys(args: string): string[] {
  return [...args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=/g)].map((m) => m[1] as string);
}

type Service = {
  build?: unknown;
  image?: string;
  environment?: Record<string, string> | string[];
  healthcheck?: { test: unknown };
  depends_on?: Record<string, { condition: string }> | string[];
  volumes?: string[];
  ports?: string[];
};
type Compose = { services: Record<string, Service>; volumes?: Record<string, unknown> };

function compose(file: string): Compose {
  return parseYaml(read(file), { merge: true }) as Compose;
}

const isWarren = (s: Service) => s.image?.startsWith("warren-server") || s.build !== undefined;
const envOf = (s: Service): Record<string, string> =>
  Array.isArray(s.environment)
    ? Object.fromEntries(s.environment.map((e) => e.split("=", 2) as [string, string]))
    : (s.environment ?? {});

describe("Dockerfile", () => {
  const steps = dockerInstructions(read("Dockerfile"));
  const stages = steps.flatMap((s, i) => (s.op === "FROM" ? [i] : []));
  const final = steps.slice(stages.at(-1));

  it("builds in one stage and runs from another", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(final.some((s) => s.op === "COPY" && s.args.startsWith("--from="))).toBe(true);
    // The toolchain for native modules stays in the build stage.
    expect(final.some((s) => s.op === "RUN" && /g\+\+|build-essential/.test(s.args))).toBe(false);
  });

  it("runs as a non-root user with a health check on /ready", () => {
    const user = final.filter((s) => s.op === "USER").at(-1);
    expect(user?.args).toBeDefined();
    expect(["root", "0", "0:0"]).not.toContain(user?.args);
    const health = final.find((s) => s.op === "HEALTHCHECK");
    expect(health?.args).toContain("/ready");
    expect(final.find((s) => s.op === "ENTRYPOINT")?.args).toContain("warren-server");
  });

  it("sets only settings the server reads", () => {
    const keys = final.filter((s) => s.op === "ENV").flatMap((s) => envKeys(s.args));
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((k) => !KNOWN.has(k))).toEqual([]);
  });
});

describe.each(["compose.yaml", "compose.cluster.yaml"])("%s", (file) => {
  const doc = compose(file);
  const warren = Object.entries(doc.services).filter(([, s]) => isWarren(s));

  it("passes only settings the server reads", () => {
    expect(warren.length).toBeGreaterThan(0);
    for (const [name, s] of warren) {
      const unknown = Object.keys(envOf(s)).filter((k) => !KNOWN.has(k));
      expect(unknown, `${file}: ${name}`).toEqual([]);
      expect(envOf(s).DATABASE_URL).toMatch(/^postgres:\/\//);
      expect(envOf(s).REDIS_URL).toMatch(/^redis:\/\//);
    }
  });

  it("has PostgreSQL and Redis with health checks, waited for, and named volumes", () => {
    for (const store of ["postgres", "redis"]) {
      expect(doc.services[store]?.healthcheck?.test, store).toBeDefined();
    }
    for (const [name, s] of warren) {
      const deps = s.depends_on as Record<string, { condition: string }>;
      expect(deps.postgres?.condition, name).toBe("service_healthy");
      expect(deps.redis?.condition, name).toBe("service_healthy");
    }
    const named = Object.keys(doc.volumes ?? {});
    for (const s of Object.values(doc.services)) {
      for (const v of s.volumes ?? []) {
        const source = v.split(":")[0] ?? "";
        if (!source.startsWith(".") && !source.startsWith("/")) expect(named).toContain(source);
      }
    }
  });
});

describe("compose.cluster.yaml", () => {
  const doc = compose("compose.cluster.yaml");
  const warren = Object.entries(doc.services).filter(([, s]) => isWarren(s));

  it("runs three instances with their own INSTANCE_ID, one JWT secret, behind one proxy hop", () => {
    expect(warren.length).toBe(3);
    const ids = warren.map(([, s]) => envOf(s).INSTANCE_ID);
    expect(new Set(ids).size).toBe(3);
    expect(new Set(warren.map(([, s]) => envOf(s).JWT_SECRET)).size).toBe(1);
    expect(new Set(warren.map(([, s]) => envOf(s).DATA_ENCRYPTION_KEY)).size).toBe(1);
    for (const [, s] of warren) {
      expect(envOf(s).TRUST_PROXY).toBe("1");
      expect(s.ports ?? []).toEqual([]);
    }
  });

  it("has Caddy terminate TLS and balance over every instance, checking /ready", () => {
    const caddy = doc.services.caddy;
    expect(caddy?.ports).toContain("443:443");
    const mounted = (caddy?.volumes ?? []).find((v) => v.includes("Caddyfile"));
    const caddyfile = read(mounted?.split(":")[0] ?? "deploy/Caddyfile");
    const upstreams = /reverse_proxy\s+([^{]+)\{/.exec(caddyfile)?.[1]?.trim().split(/\s+/) ?? [];
    expect(upstreams.sort()).toEqual(warren.map(([name]) => `${name}:8080`).sort());
    expect(caddyfile).toMatch(/health_uri \/ready/);
    // /metrics stays off the public side.
    expect(caddyfile).toMatch(/@internal path \/metrics/);
  });
});

describe("systemd units", () => {
  const units = ["deploy/systemd/warren-server.service", "deploy/systemd/warren-up@.service"];

  it("pass only settings the server reads, and give the client CAP_NET_ADMIN instead of root", () => {
    const server = read(units[0] as string);
    const keys = [...server.matchAll(/^Environment=([A-Z_0-9]+)=/gm)].map((m) => m[1]);
    expect(keys.filter((k) => !KNOWN.has(k as string))).toEqual([]);
    expect(server).toMatch(/^ExecStart=\S*warren-server$/m);
    expect(server).toMatch(/^DynamicUser=yes$/m);
    const client = read(units[1] as string);
    expect(client).toMatch(/^User=(?!root)\S+$/m);
    expect(client).toMatch(/^AmbientCapabilities=CAP_NET_ADMIN$/m);
    expect(client).toMatch(/^CapabilityBoundingSet=CAP_NET_ADMIN$/m);
    expect(client).toMatch(/^Environment=WARREN_CONFIG_DIR=\/var\/lib\/warren\/%i$/m);
  });

  it.skipIf(!SYSTEMD_ANALYZE)("pass systemd-analyze verify", async () => {
    // verify insists that ExecStart's program exists: point it at stand-ins.
    const dir = tempDir();
    const bins: Record<string, string> = {};
    for (const bin of ["warren", "warren-server"]) {
      bins[bin] = path.join(dir, bin);
      writeFileSync(bins[bin], "#!/bin/sh\nexit 0\n");
      chmodSync(bins[bin], 0o755);
    }
    for (const unit of units) {
      const text = read(unit).replace(
        /\/usr\/local\/bin\/(warren(?:-server)?)\b/g,
        (_, b: string) => bins[b] ?? b,
      );
      // A template is verified through an instance of it.
      const name = path.basename(unit).replace("@.service", "@home.service");
      writeFileSync(path.join(dir, name), text);
      const result = await run(SYSTEMD_ANALYZE as string, ["verify", "--man=no", path.join(dir, name)], {
        timeout: 60_000,
      }).catch((err: { stdout?: string; stderr?: string }) => ({
        stdout: err.stdout ?? "",
        stderr: `failed: ${err.stderr ?? ""}`,
      }));
      // Lines about the host's own units (it has none running here) are not ours.
      const ours = `${result.stdout}${result.stderr}`
        .split("\n")
        .filter((l) => l.includes(name) || l.startsWith("failed"));
      expect(ours, unit).toEqual([]);
    }
  });
});

describe("monitoring", () => {
  let t: TestServer;
  let exported: Set<string>;
  beforeAll(async () => {
    t = await startTestServer(sqliteBackend);
    const text = await (await fetch(`${t.url}/metrics`)).text();
    exported = new Set(
      text
        .split("\n")
        .filter((l) => l && !l.startsWith("#"))
        .map((l) => /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(l)?.[0] ?? ""),
    );
    // A labelled metric has no series until first counted: its TYPE line names it. A
    // histogram's or summary's series are its _bucket/_sum/_count.
    for (const line of text.split("\n")) {
      const m = /^# TYPE (\S+) (\w+)$/.exec(line);
      if (!m) continue;
      exported.add(m[1] as string);
      if (m[2] === "histogram" || m[2] === "summary")
        for (const s of ["_bucket", "_sum", "_count"]) exported.add(`${m[1]}${s}`);
    }
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  const PROMQL_WORDS = new Set(["histogram_quantile", "label_values", "rate", "sum", "min", "max", "by"]);
  /** Metric names in a PromQL expression: identifiers with an underscore that are not functions. */
  const metricsIn = (expr: string) =>
    [...expr.replace(/"[^"]*"/g, '""').matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)]
      .map((m) => m[0])
      .filter((w) => w.includes("_") && !w.startsWith("__") && !PROMQL_WORDS.has(w));

  it("alert rules pass promtool and query only exported metrics", async () => {
    const rules = parseYaml(read("monitoring/alerts.yml")) as {
      groups: { rules: { alert: string; expr: string }[] }[];
    };
    const all = rules.groups.flatMap((g) => g.rules);
    const names = all.map((r) => r.alert);
    for (const wanted of ["InstanceDown", "RedisAway", "HighErrorRate", "EventLoopLag", "RelaySaturated"]) {
      expect(names).toContain(`Warren${wanted}`);
    }
    for (const rule of all) {
      expect(
        metricsIn(rule.expr).filter((m) => !exported.has(m)),
        rule.alert,
      ).toEqual([]);
    }
    if (PROMTOOL) {
      const result = await run(PROMTOOL, ["check", "rules", path.join(REPO, "monitoring/alerts.yml")], {
        timeout: 60_000,
      });
      expect(result.stdout).toMatch(/SUCCESS: \d+ rules found/);
      await run(PROMTOOL, ["check", "config", path.join(REPO, "monitoring/prometheus.yml")], {
        timeout: 60_000,
      });
      // The rules' unit tests: each alert fires on the series it is meant for, and only then.
      const tested = await run(PROMTOOL, ["test", "rules", path.join(REPO, "monitoring/alerts.test.yml")], {
        timeout: 60_000,
      });
      expect(`${tested.stdout}${tested.stderr}`).toContain("SUCCESS");
    }
  });

  it("the Grafana dashboard queries only exported metrics", () => {
    const dash = JSON.parse(read("monitoring/grafana-dashboard.json")) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    expect(dash.panels.length).toBeGreaterThan(10);
    const queried = new Set<string>();
    for (const panel of dash.panels) {
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets) {
        const missing = metricsIn(target.expr).filter((m) => !exported.has(m) && m !== "up");
        expect(missing, panel.title).toEqual([]);
        for (const m of metricsIn(target.expr)) queried.add(m);
      }
    }
    // The metrics operations.md documents as warren's own all have a panel.
    for (const own of [
      "signaling_active_connections",
      "warren_rooms_active",
      "warren_bus_up",
      "http_requests_total",
    ]) {
      expect(queried).toContain(own);
    }
  });
});
