import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { configDir } from "../../store/paths.js";
import type { PathsStatus } from "./paths.js";

/** The running daemon's view of every pair's path, for scripts and the NAT lab: paths.json beside daemon.json. */
export interface PathsFile {
  device_id: string;
  updated_at: string;
  networks: Record<string, PathsStatus>;
}

export const pathsFile = (dir = configDir()) => path.join(dir, "paths.json");

export function savePaths(content: PathsFile, dir?: string): void {
  const file = pathsFile(dir);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, file);
}

/**
 * What the server keeps of one network's paths (PUT /v1/peers/{id}/paths), and the key
 * that says whether it changed: round-trip times change all the time, so they alone are
 * no reason to report.
 */
export function pathReport(status: PathsStatus) {
  const body = {
    nat: status.nat,
    paths: status.peers.map((p) => ({
      device_id: p.device_id,
      path: p.path,
      endpoint: p.endpoint,
      local_candidate: p.local_candidate,
      relay_instance: p.relay_instance,
      reason: p.reason,
      rtt_ms: p.rtt_ms,
    })),
  };
  const key = JSON.stringify({ ...body, paths: body.paths.map((p) => ({ ...p, rtt_ms: null })) });
  return { body, key };
}
