import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

export interface SigningKey {
  secret: Uint8Array;
  /** set when this start created the key file */
  created?: string;
}

/**
 * The HS256 secret for access tokens: JWT_SECRET when given; otherwise a random key kept
 * in DATA_DIR/signing.key (mode 0600), made on first start and reused after, so tokens
 * survive restarts. Production refuses to start without JWT_SECRET (config.ts).
 */
export function loadSigningKey(options: { jwtSecret: string | undefined; dataDir: string }): SigningKey {
  if (options.jwtSecret) return { secret: new TextEncoder().encode(options.jwtSecret) };
  const file = path.join(options.dataDir, "signing.key");
  const read = () => {
    const text = readFileSync(file, "utf8").trim();
    const bytes = Buffer.from(text, "base64url");
    if (bytes.length < 32) throw new Error(`${file} holds fewer than 32 bytes; delete it to make a new one`);
    return new Uint8Array(bytes);
  };
  try {
    return { secret: read() };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  mkdirSync(options.dataDir, { recursive: true });
  try {
    // "wx": if another process made it first, keep theirs.
    writeFileSync(file, `${randomBytes(32).toString("base64url")}\n`, { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    return { secret: read() };
  }
  return { secret: read(), created: file };
}
