import { randomBytes } from "node:crypto";
import {
  closeSync,
  fchmodSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import { configDir, ensureConfigDir } from "./paths.js";

/** The path of `name` in the config directory. */
export function statePath(name: string): string {
  return path.join(configDir(), name);
}

/** A JSON state file, or undefined when it does not exist. */
export function readJson(name: string): unknown {
  let text: string;
  try {
    text = readFileSync(statePath(name), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`${statePath(name)} is not valid JSON; remove it and sign in again`);
  }
}

/**
 * Writes a secret JSON file atomically: a temp file in the same directory, created
 * with mode 0600 and chmod-ed before any byte is written (so the secret is never
 * readable by others, whatever the umask), fsync-ed, then renamed over the old file.
 * A crash leaves either the old file or the new one, never half of one.
 */
export function writeSecretJson(name: string, value: unknown): void {
  const dir = ensureConfigDir();
  const target = path.join(dir, name);
  const temp = path.join(dir, `.${name}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const fd = openSync(temp, "wx", 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, `${JSON.stringify(value, null, 2)}\n`);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(temp, target);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

export function removeStateFile(name: string): void {
  rmSync(statePath(name), { force: true });
}
