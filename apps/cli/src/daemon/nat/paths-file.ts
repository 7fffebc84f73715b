import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { configDir } from "../../store/paths.js";
import type { PathsStatus } from "./paths.js";

/** The daemon's view of every pair's path, for `warren status`: paths.json beside daemon.json. */
export interface PathsFile {
  device_id: string;
  updated_at: string;
  networks: Record<string, PathsStatus>;
}

export const pathsFile = () => path.join(configDir(), "paths.json");

export function savePaths(content: PathsFile): void {
  const file = pathsFile();
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, file);
}

export function loadPaths(): PathsFile | undefined {
  const file = pathsFile();
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as PathsFile;
  } catch {
    return undefined;
  }
}
