import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CliError } from "../output.js";
import { configDir } from "../store/paths.js";

/**
 * What `warren up` created on this machine, so `warren down` removes exactly that (also
 * after the daemon stopped) and `warren status` knows where to look when no daemon runs.
 * One file, daemon.json in the state directory (the config directory unless a daemon is
 * given another), written atomically with mode 0600.
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

export const stateFile = (dir = configDir()) => path.join(dir, "daemon.json");

export function loadState(dir?: string): DaemonState | undefined {
  const file = stateFile(dir);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as DaemonState;
  } catch (err) {
    throw new CliError(
      `${file} is damaged (${(err as Error).message}); remove it, and any leftover interfaces with \`ip link del\``,
    );
  }
}

export function saveState(state: DaemonState, dir?: string): void {
  const file = stateFile(dir);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, "", { mode: 0o600 });
  writeFileSync(temp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(temp, file);
}

export function clearState(dir?: string): void {
  rmSync(stateFile(dir), { force: true });
}

/** The lowest listen port from 51820 that no other network of this state uses. */
export function nextListenPort(state: DaemonState, first = 51820): number {
  const used = new Set(Object.values(state.networks).map((n) => n.listen_port));
  let port = first;
  while (used.has(port)) port++;
  return port;
}
