import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { bundleCommand } from "../../../../scripts/test-bundles.js";
import { SETTINGS } from "../../src/config.js";

/**
 * Real server processes for process-level tests: `warren-server [migrate] ...flags` (the
 * bundle the test run built from apps/server/src/bin.ts, or the source through tsx:
 * scripts/test-bundles.ts), in a fresh working directory, with an environment cleared of every
 * warren setting so only what a test passes applies. Every wait is bounded; every child
 * is tracked so `stopAll()` (afterEach/afterAll) leaves nothing running.
 */

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
const SERVER = bundleCommand("server");

export type Env = Record<string, string | undefined>;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface WarrenProcess {
  child: ChildProcess;
  cwd: string;
  stdout(): string;
  stderr(): string;
  /** stdout and stderr together */
  output(): string;
  /** settles when the process has exited */
  exited: Promise<Exit>;
  /** resolves with the first match of `pattern` in stdout+stderr, or rejects after `timeoutMs` */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** resolves with the exit, or rejects after `timeoutMs` (the process is left running) */
  waitForExit(timeoutMs?: number): Promise<Exit>;
  /** SIGKILL if still running, then wait for the exit */
  kill(): Promise<void>;
}

export interface ServerProcess extends WarrenProcess {
  /** the URL the server printed */
  url: string;
  port: number;
}

const running = new Set<WarrenProcess>();
const tempDirs = new Set<string>();

/** The test runner's environment without NODE_ENV and without any warren setting. */
export function cleanEnv(extra: Env = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_ENV;
  for (const s of SETTINGS) delete env[s.env];
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** A fresh temporary directory, removed by `removeTempDirs()`. */
export function tempDir(prefix = "warren-proc-"): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** A TCP port that was free a moment ago (bind port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what()}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Spawns `warren-server ...args` ("server", the default command) or `warren-server migrate
 * ...args`, with `env` on top of a clean environment.
 */
export function spawnWarren(
  command: "server" | "migrate" | "backup" | "restore" | "rotate-keys",
  args: string[] = [],
  options: { cwd?: string; env?: Env } = {},
): WarrenProcess {
  const cwd = options.cwd ?? tempDir();
  const subcommand = command === "server" ? [] : [command];
  const child = spawn(process.execPath, [...SERVER, ...subcommand, ...args], {
    cwd,
    env: cleanEnv(options.env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  let all = "";
  const listeners = new Set<() => void>();
  const changed = () => {
    for (const l of listeners) l();
  };
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    out += chunk;
    all += chunk;
    changed();
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    err += chunk;
    all += chunk;
    changed();
  });
  const exited = new Promise<Exit>((resolve) => {
    child.once("close", (code, signal) => {
      resolve({ code, signal });
      changed();
    });
  });
  let done = false;
  void exited.then(() => {
    done = true;
    running.delete(proc);
  });
  const describe = () => `warren ${command} ${args.join(" ")}\n--- output ---\n${all}`;

  const proc: WarrenProcess = {
    child,
    cwd,
    stdout: () => out,
    stderr: () => err,
    output: () => all,
    exited,
    waitFor(pattern, timeoutMs = 30_000) {
      const found = new Promise<RegExpMatchArray>((resolve, reject) => {
        const check = () => {
          const match = all.match(pattern);
          if (match) {
            listeners.delete(check);
            resolve(match);
          } else if (done) {
            listeners.delete(check);
            reject(new Error(`exited before printing ${pattern}: ${describe()}`));
          }
        };
        listeners.add(check);
        check();
      });
      return withTimeout(found, timeoutMs, () => `waiting for ${pattern} from ${describe()}`);
    },
    waitForExit(timeoutMs = 30_000) {
      return withTimeout(exited, timeoutMs, () => `waiting for exit of ${describe()}`);
    },
    async kill() {
      if (!done) child.kill("SIGKILL");
      await withTimeout(exited, 10_000, describe);
    },
  };
  running.add(proc);
  return proc;
}

const LISTENING = /warren is listening on (https?:\/\/(\[[^\]]+\]|[^\s:/]+):(\d+))\n/;

/**
 * Starts `warren server` (PORT=0 unless the test sets PORT, SERVER_ADDR or --port) and
 * waits for the line with its URL.
 */
export async function startWarren(
  options: { cwd?: string; env?: Env; args?: string[]; timeoutMs?: number } = {},
): Promise<ServerProcess> {
  const env = { ...options.env };
  const args = options.args ?? [];
  if (!("PORT" in env) && !("SERVER_ADDR" in env) && !args.includes("--port")) env.PORT = "0";
  const proc = spawnWarren("server", args, { cwd: options.cwd, env });
  const match = await proc.waitFor(LISTENING, options.timeoutMs ?? 60_000);
  return { ...proc, url: match[1] as string, port: Number(match[3]) };
}

/** Runs a `warren` command to its end (bounded) and returns its exit and output. */
export async function runWarren(
  command: "server" | "migrate" | "backup" | "restore" | "rotate-keys",
  args: string[] = [],
  options: { cwd?: string; env?: Env; timeoutMs?: number } = {},
): Promise<Exit & { stdout: string; stderr: string }> {
  const proc = spawnWarren(command, args, options);
  try {
    const exit = await proc.waitForExit(options.timeoutMs ?? 60_000);
    return { ...exit, stdout: proc.stdout(), stderr: proc.stderr() };
  } finally {
    await proc.kill();
  }
}

/** Kills every process still running (SIGKILL) and waits for them. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.kill()));
}

/** The lines of pino JSON output (other lines skipped). */
export function logLines(text: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a partial or non-JSON line
    }
  }
  return lines;
}

// Shared by the process*.test.ts files.

/** How long a signalled server may take to exit. */
export const EXIT_BOUND_MS = 8_000;

export function username(): string {
  return `u_${randomBytes(5).toString("hex")}`;
}

/** The parts of JSON answers these tests read (absent ones are undefined at run time). */
export interface Answer {
  tokens: { access_token: string; refresh_token: string };
  username: string;
  error: { code: string; message: string };
}

export async function json(
  base: string,
  method: string,
  route: string,
  options: { body?: unknown; token?: string } = {},
): Promise<{ status: number; body: Answer }> {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const res = await fetch(`${base}${route}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Answer };
}

/** The server on loopback by its port (the printed URL may say localhost). */
export function loopback(server: ServerProcess): string {
  return `http://127.0.0.1:${server.port}`;
}

export async function signal(server: ServerProcess, name: NodeJS.Signals) {
  server.child.kill(name);
  return server.waitForExit(EXIT_BOUND_MS);
}

export function stderrLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l.length > 0);
}
