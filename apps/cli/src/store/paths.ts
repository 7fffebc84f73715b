import { chmodSync, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";

/**
 * Where the CLI keeps its state (credentials.json, devices.json): WARREN_CONFIG_DIR,
 * else $XDG_CONFIG_HOME/warren, else ~/.config/warren (XDG Base Directory spec).
 */
export function configDir(): string {
  const own = process.env.WARREN_CONFIG_DIR;
  if (own) return path.resolve(own);
  const xdg = process.env.XDG_CONFIG_HOME;
  // The spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, "warren");
  return path.join(homedir(), ".config", "warren");
}

/** configDir(), created (mode 0700: it holds secrets) if it does not exist yet. */
export function ensureConfigDir(): string {
  const dir = configDir();
  const created = mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode passes through the umask; set it outright on a directory we made.
  if (created !== undefined) chmodSync(dir, 0o700);
  return dir;
}
