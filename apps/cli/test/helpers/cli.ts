import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { bundleCommand } from "../../../../scripts/test-bundles.js";

/**
 * The `warren` CLI as a real child process (the client bundle the test run built from
 * apps/cli/src/bin.ts, or the source through tsx: scripts/test-bundles.ts),
 * each "machine" with its own config directory. Every run is bounded and killed if
 * it overruns, so a hanging prompt fails the test instead of stalling the suite.
 */

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
/** node's arguments that run `warren`: `[process.execPath, ...CLIENT, ...args]` */
export const CLIENT = bundleCommand("client");
/** the same for `warren-server`, for suites that start their own server process */
export const SERVER = bundleCommand("server");

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON */
  json<T = any>(): T;
}

const dirs = new Set<string>();

export function tempDir(prefix = "warren-cli-"): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

/** The environment of a CLI run: no stray WARREN_* from the test runner's shell. */
export function cliEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith("WARREN_") || key === "NODE_ENV") delete env[key];
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export interface Machine {
  configDir: string;
  /** runs `warren ...args` against the server (WARREN_SERVER) with this machine's config */
  run(
    args: string[],
    options?: { input?: string; env?: Record<string, string | undefined>; timeoutMs?: number },
  ): Promise<Run>;
  /** like run, and fails the test with the output unless the exit code is 0 */
  ok(args: string[], options?: { input?: string; env?: Record<string, string | undefined> }): Promise<Run>;
}

export function machine(server: string): Machine {
  const configDir = tempDir();
  const run: Machine["run"] = (args, options = {}) =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [...CLIENT, ...args], {
        cwd: configDir,
        env: cliEnv({ WARREN_CONFIG_DIR: configDir, WARREN_SERVER: server, ...options.env }),
        stdio: ["pipe", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (c: string) => {
        stdout += c;
      });
      child.stderr.setEncoding("utf8").on("data", (c: string) => {
        stderr += c;
      });
      child.stdin.end(options.input ?? "");
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`timed out: warren ${args.join(" ")}\n${stdout}\n${stderr}`));
      }, options.timeoutMs ?? 20_000);
      child.once("error", reject);
      child.once("close", (code) => {
        clearTimeout(timer);
        resolve({
          code,
          stdout,
          stderr,
          json: () => {
            try {
              return JSON.parse(stdout);
            } catch {
              throw new Error(`not JSON from warren ${args.join(" ")}:\n${stdout}\n${stderr}`);
            }
          },
        });
      });
    });
  return {
    configDir,
    run,
    async ok(args, options) {
      const r = await run(args, options);
      if (r.code !== 0)
        throw new Error(`warren ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
      return r;
    },
  };
}

/** `wg pubkey` of a private key, or undefined when wireguard-tools is not installed. */
export function wgPubkey(privateKey: string): string | undefined {
  const r = spawnSync("wg", ["pubkey"], { input: `${privateKey}\n`, encoding: "utf8", timeout: 5_000 });
  if (r.error || r.status !== 0) return undefined;
  return r.stdout.trim();
}

export const hasPython = spawnSync("python3", ["-c", "import pty"], { timeout: 5_000 }).status === 0;

/**
 * Runs the CLI on a pseudo-terminal (python3's pty module: node has none), answering
 * prompts in order: each [pattern, reply] waits for the pattern, then types the reply.
 * Returns everything the terminal showed, so a test can check what was not echoed.
 */
export async function runOnTerminal(
  args: string[],
  env: Record<string, string>,
  script: [string, string][],
  timeoutMs = 20_000,
): Promise<{ code: number | null; screen: string }> {
  // Not spawnSync: the server under test runs in this process and must keep answering.
  const child = spawn(
    "python3",
    [
      "-c",
      DRIVER,
      JSON.stringify([process.execPath, ...CLIENT, ...args]),
      JSON.stringify(script),
      String(timeoutMs / 1000),
    ],
    { env: cliEnv(env), stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => {
    out += c;
  });
  child.stderr.setEncoding("utf8").on("data", (c: string) => {
    err += c;
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs + 5_000);
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`terminal run failed (${code}): ${err}${out}`);
  return JSON.parse(out) as { code: number | null; screen: string };
}

const DRIVER = `
import os, pty, sys, json, time, select
args, script, limit = json.loads(sys.argv[1]), json.loads(sys.argv[2]), float(sys.argv[3])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(args[0], args)
screen = b""
deadline = time.time() + limit
def read_until(pattern):
    global screen
    while pattern.encode() not in screen:
        if time.time() > deadline:
            raise SystemExit("timeout waiting for " + pattern + ": " + screen.decode(errors="replace"))
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b""
            if not data:
                raise SystemExit("eof waiting for " + pattern + ": " + screen.decode(errors="replace"))
            screen += data
for pattern, reply in script:
    read_until(pattern)
    os.write(fd, (reply + "\\r").encode())
while True:
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    screen += data
_, status = os.waitpid(pid, 0)
sys.stdout.write(json.dumps({"code": os.waitstatus_to_exitcode(status), "screen": screen.decode(errors="replace")}))
`;
