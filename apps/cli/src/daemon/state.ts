import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CliError } from "../output.js";
import { configDir } from "../store/paths.js";

/**
 * What `warren up` created on this machine, so `warren down` removes exactly that and
 * `warren status` knows where to look. One file, daemon.json in the config directory,
 * written atomically with mode 0600.
 */
export interface NetworkState {
  network_id: string;
  network_name: string;
  tenant_id: string;
  peer_id: string;
  interface: string;
  address: string;
  cidr: string;
  listen_port: number;
}

export interface DaemonState {
  /** the running daemon; null once it stopped */
  pid: number | null;
  server: string;
  user_id: string;
  device_id: string;
  networks: Record<string, NetworkState>;
}

export const stateFile = () => path.join(configDir(), "daemon.json");

export function loadState(): DaemonState | undefined {
  const file = stateFile();
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as DaemonState;
  } catch (err) {
    throw new CliError(
      `${file} is damaged (${(err as Error).message}); remove it, and any leftover interfaces with \`ip link del\``,
    );
  }
}

export function saveState(state: DaemonState): void {
  const file = stateFile();
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, "", { mode: 0o600 });
  writeFileSync(temp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(temp, file);
}

export function clearState(): void {
  rmSync(stateFile(), { force: true });
}

/**
 * True when the daemon with that pid still runs: the process exists and, where /proc
 * tells, its command line is a `warren up` (a pid reused after a crash is not ours, and
 * `warren down` must never signal it).
 */
export function isRunning(pid: number | null | undefined): pid is number {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return args.includes("up") && args.some((a) => /warren|bin\.ts|warren\.mjs/.test(a));
  } catch {
    return true; // no /proc here: trust the signal check
  }
}

/** The lowest listen port from 51820 that no other network of this state uses. */
export function nextListenPort(state: DaemonState, first = 51820): number {
  const used = new Set(Object.values(state.networks).map((n) => n.listen_port));
  let port = first;
  while (used.has(port)) port++;
  return port;
}
