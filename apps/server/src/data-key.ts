import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

export interface DataKeys {
  /** seals everything written from now on */
  current: Buffer;
  /** retired keys: opened, never used to seal */
  old: Buffer[];
  /** set when this start created the key file */
  created?: string;
}

/**
 * The key that seals secrets at rest: DATA_ENCRYPTION_KEY when given; otherwise a random
 * key kept in DATA_DIR/data.key (mode 0600), made on first start and reused after.
 * Production refuses to start without the setting (config.ts): a key beside the data it
 * protects guards only against a leaked database dump, and several instances would each
 * make their own.
 */
export function loadDataKeys(options: {
  key: Buffer | undefined;
  oldKeys: Buffer[];
  dataDir: string;
}): DataKeys {
  if (options.key) return { current: options.key, old: options.oldKeys };
  const file = path.join(options.dataDir, "data.key");
  const read = () => {
    const bytes = Buffer.from(readFileSync(file, "utf8").trim(), "base64url");
    if (bytes.length !== 32) throw new Error(`${file} does not hold a 32-byte key`);
    return bytes;
  };
  try {
    return { current: read(), old: options.oldKeys };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  mkdirSync(options.dataDir, { recursive: true });
  try {
    // "wx": if another process made it first, keep theirs.
    writeFileSync(file, `${randomBytes(32).toString("base64url")}\n`, { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    return { current: read(), old: options.oldKeys };
  }
  return { current: read(), old: options.oldKeys, created: file };
}
