/** Starting the two servers under test as child processes, and warren's accounts. */
import { type ChildProcess, spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const HOST = "127.0.0.1";

export interface ServerProcess {
  name: string;
  pid: number;
  port: number;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, HOST, () => {
      const address = s.address();
      const port = typeof address === "object" && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Extra node flags for both servers, e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof
 * --cpu-prof-dir=/tmp/prof" (node refuses --cpu-prof in NODE_OPTIONS).
 */
export const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(/\s+/).filter(Boolean);

/** CPUs for the servers under test and for the load processes (taskset -c lists), when pinned. */
export interface Pinning {
  server: string;
  load: string;
}
let pinning: Pinning | undefined;

export function pin(p: Pinning | undefined): void {
  pinning = p;
}

/** How to start `node <args>` for the server or for a load process: under taskset when pinned. */
export function nodeCommand(role: keyof Pinning, args: string[]): [string, string[]] {
  return pinning ? ["taskset", ["-c", pinning[role], process.execPath, ...args]] : [process.execPath, args];
}

/** Every server started; none outlives the benchmark, even when it is interrupted. */
const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const timer = setTimeout(() => {
      // A second signal exits at once (warren); SIGKILL if even that does not.
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 3000).unref();
    }, 12_000);
    await exited;
    clearTimeout(timer);
  };
}

/** bench/bare-relay.ts, run the same way as warren (node --import tsx); `corked`: BARE_CORK=1. */
export async function startBare(
  mode: "bare" | "corked" = "bare",
  extra: { env?: Record<string, string>; nodeArgs?: string[] } = {},
): Promise<ServerProcess> {
  const args = [...nodeArgs, ...(extra.nodeArgs ?? []), "--import", "tsx", "bench/bare-relay.ts"];
  const child = track(
    spawn(...nodeCommand("server", args), {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: "0",
        HOST,
        NODE_OPTIONS: "",
        BARE_CORK: mode === "corked" ? "1" : "0",
        ...extra.env,
      },
      stdio: ["ignore", "pipe", "inherit"],
    }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("bare relay did not start in 30 s")), 30_000);
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`bare relay exited with ${code}`));
    });
  });
  child.stdout?.resume();
  if (child.pid === undefined) throw new Error("bare relay has no pid");
  return { name: mode, pid: child.pid, port, stop: stopper(child) };
}

/** One JWT secret per run, so tokens from the setup instance work on the later ones. */
const JWT_SECRET = randomBytes(32).toString("hex");

/**
 * Where warren is started from: this checkout, or BENCH_WARREN_DIR (another checkout
 * of the repository, with node_modules) to compare two versions with the same load.
 */
const WARREN_DIR = path.resolve(process.env.BENCH_WARREN_DIR ?? ROOT);

/**
 * warren's environment in every benchmark: this run's JWT secret, warnings only, and the
 * upgrade and message rate limits on but set above the offered load (the limit is per
 * user; each sender is its own user).
 */
export function warrenEnv(
  port: number,
  dataDir: string,
  extraEnv: Record<string, string> = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_OPTIONS: "",
    PORT: String(port),
    HOST,
    DATA_DIR: dataDir,
    LOG_LEVEL: "warn",
    JWT_SECRET,
    UPGRADE_RATE_LIMIT: "1000000",
    MESSAGE_RATE_LIMIT: "1000000",
    MESSAGE_BURST_LIMIT: "1000000",
    ...extraEnv,
  };
  delete env.NODE_ENV;
  return env;
}

/**
 * The real server: `node --import tsx apps/server/src/bin.ts` (warren-server). Rate limits are on,
 * set above the offered load (the limit is per user; each sender is its own user).
 */
export async function startWarren(
  dataDir: string,
  extraEnv: Record<string, string> = {},
  extraNodeArgs: string[] = [],
): Promise<ServerProcess> {
  const port = await freePort();
  const env = warrenEnv(port, dataDir, extraEnv);
  const child = track(
    spawn(
      ...nodeCommand("server", [
        ...nodeArgs,
        ...extraNodeArgs,
        ...(process.env.BENCH_WARREN_BUNDLE
          ? [process.env.BENCH_WARREN_BUNDLE]
          : ["--import", "tsx", "apps/server/src/bin.ts"]),
      ]),
      {
        cwd: WARREN_DIR,
        env,
        stdio: ["ignore", "ignore", "inherit"],
      },
    ),
  );
  let exited: number | null | undefined;
  child.once("exit", (code) => {
    exited = code;
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== undefined) throw new Error(`warren exited with ${exited} while starting`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error("warren did not answer /health within 60 s");
    }
    try {
      const res = await fetch(`http://${HOST}:${port}/health`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {}
    await sleep(100);
  }
  if (child.pid === undefined) throw new Error("warren has no pid");
  return { name: "warren", pid: child.pid, port, stop: stopper(child) };
}

interface RegisterReply {
  user?: { id: string };
  tokens?: { access_token: string };
  error?: { code: string; message: string };
}

export interface Account {
  id: string;
  token: string;
}

/**
 * Key-only accounts (POST /v1/auth/register with an Ed25519 public key): no password,
 * so no argon2 cost. `concurrency` requests in flight.
 */
export async function registerUsers(
  port: number,
  prefix: string,
  count: number,
  concurrency = 32,
  timeoutMs = 180_000,
): Promise<Account[]> {
  const accounts: Account[] = new Array(count);
  const deadline = Date.now() + timeoutMs;
  let next = 0;
  const lane = async () => {
    while (next < count) {
      if (Date.now() > deadline) throw new Error(`registration took over ${timeoutMs / 1000} s`);
      const i = next++;
      // A request that hangs is abandoned after 15 s and tried again under a new name and
      // key (the first may have been created after all), at most three times.
      let body: RegisterReply | undefined;
      let failure = "";
      for (let attempt = 0; attempt < 3 && !body; attempt++) {
        const username = attempt === 0 ? `${prefix}${i}` : `${prefix}${i}r${attempt}`;
        const jwk = generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" });
        try {
          const res = await fetch(`http://${HOST}:${port}/v1/auth/register`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ username, public_key: jwk.x }),
            signal: AbortSignal.timeout(15_000),
          });
          const reply = (await res.json()) as RegisterReply;
          if (res.status === 201 && reply.user && reply.tokens) body = reply;
          else failure = `HTTP ${res.status} ${JSON.stringify(reply.error ?? reply)}`;
          if (res.status !== 201 && res.status < 500 && res.status !== 429) break;
        } catch (err) {
          failure = String(err);
        }
      }
      if (!body?.user || !body.tokens) throw new Error(`register ${prefix}${i}: ${failure}`);
      accounts[i] = { id: body.user.id, token: body.tokens.access_token };
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return accounts;
}
