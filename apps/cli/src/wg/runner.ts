import { execFile } from "node:child_process";

/**
 * The one way the WireGuard backend reaches the OS (DESIGN.md: every OS call goes
 * through one command runner). Programs run without a shell, so no argument is ever
 * parsed twice; tests swap in `recordingRunner` and read the exact commands.
 */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** written to the command's stdin (how private keys reach `wg`: never argv, never a file) */
  input?: string;
  /** return a non-zero exit as a result instead of throwing */
  allowFailure?: boolean;
  /** added to this process's environment */
  env?: Record<string, string>;
}

export interface CommandRunner {
  run(cmd: string, args: string[], options?: RunOptions): Promise<CommandResult>;
}

export interface RecordedCall {
  cmd: string;
  args: string[];
  input?: string;
}

/** No command of ours should take this long; a hung `ip` or `wg` must not hang the daemon. */
const TIMEOUT_MS = 30_000;

export function commandText(cmd: string, args: string[]): string {
  return [cmd, ...args].join(" ");
}

function failure(cmd: string, args: string[], result: CommandResult): Error {
  const why = result.stderr.trim() || `exit code ${result.code}`;
  return new Error(`${commandText(cmd, args)} failed: ${why}`);
}

/**
 * How input reaches a command: through `cat` into a real pipe. Node gives a child a
 * socketpair as stdin, and open(2) of /dev/stdin on a socket fails with ENXIO, while
 * wg(8) opens its key "file" by path (`wg set X private-key /dev/stdin`, as wg-quick
 * does with a pipe). The script is fixed; the command and its arguments reach it as
 * positional parameters, never as text a shell parses.
 */
const PIPE_INPUT = ["-c", 'cat | "$@"', "sh"];

/**
 * Runs programs with execFile (no shell; see PIPE_INPUT for commands given input); a
 * non-zero exit throws an Error naming the command and its stderr.
 */
export function systemRunner(): CommandRunner {
  return {
    run(cmd, args, options = {}) {
      const piped = options.input !== undefined;
      return new Promise((resolve, reject) => {
        const child = execFile(
          piped ? "sh" : cmd,
          piped ? [...PIPE_INPUT, cmd, ...args] : args,
          {
            env: options.env ? { ...process.env, ...options.env } : process.env,
            timeout: TIMEOUT_MS,
            maxBuffer: 64 * 1024 * 1024,
            encoding: "utf8",
          },
          (err, stdout, stderr) => {
            let result: CommandResult = { code: 0, stdout, stderr };
            if (err) {
              const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
              if (e.code === "ENOENT") {
                result = { code: 127, stdout, stderr: `${cmd}: command not found` };
              } else if (typeof e.code === "number") {
                result = { code: e.code, stdout, stderr };
              } else if (e.killed) {
                reject(new Error(`${commandText(cmd, args)} did not finish within ${TIMEOUT_MS} ms`));
                return;
              } else {
                reject(new Error(`${commandText(cmd, args)} failed: ${e.message}`, { cause: err }));
                return;
              }
            }
            if (result.code !== 0 && !options.allowFailure) reject(failure(cmd, args, result));
            else resolve(result);
          },
        );
        // Without input, stdin is closed at once so nothing waits on it.
        child.stdin?.on("error", () => {});
        child.stdin?.end(options.input ?? "");
      });
    },
  };
}

/**
 * A runner that stands in for the OS in unit tests: it records every call and answers
 * from `answers` (default: exit 0, no output). A non-zero answer throws unless
 * allowFailure, as `systemRunner` does.
 */
export function recordingRunner(
  answers?: (cmd: string, args: string[]) => Partial<CommandResult> | undefined,
): CommandRunner & { calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  return {
    calls,
    async run(cmd, args, options = {}) {
      calls.push(options.input === undefined ? { cmd, args } : { cmd, args, input: options.input });
      const result: CommandResult = { code: 0, stdout: "", stderr: "", ...answers?.(cmd, args) };
      if (result.code !== 0 && !options.allowFailure) throw failure(cmd, args, result);
      return result;
    },
  };
}

/** Network namespace names: what `ip netns add` accepts and a path segment can hold. */
const NAMESPACE = /^[A-Za-z0-9_.-]{1,64}$/;

/** Runs every command inside a network namespace: `ip netns exec <ns> <cmd> <args…>`. */
export function namespacedRunner(ns: string, runner: CommandRunner): CommandRunner {
  if (!NAMESPACE.test(ns) || ns === "." || ns === "..") {
    throw new Error(`"${ns}" is not a network namespace name`);
  }
  return {
    run: (cmd, args, options) => runner.run("ip", ["netns", "exec", ns, cmd, ...args], options),
  };
}
