import { createPrivateKey } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { CliError, warn } from "./output.js";

/**
 * Ed25519 secret key files for `warren login --key`. Accepted, so a key from any of
 * the usual tools works:
 * - the 32-byte seed as text: base64 (standard or url-safe, 43–44 characters) or hex
 *   (64 characters), the form the SDK's generateEd25519().secretKey is in;
 * - PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"), as `openssl genpkey -algorithm ed25519` writes;
 * - an unencrypted OpenSSH key ("-----BEGIN OPENSSH PRIVATE KEY-----"), as
 *   `ssh-keygen -t ed25519 -N ""` writes (PROTOCOL.key in OpenSSH's sources).
 * The seed stays on this machine: sign-in sends only a signature over a challenge.
 */
export const KEY_FILE_HELP = `
Key files (--key): the 32-byte Ed25519 seed as base64 or hex text, a PKCS#8 PEM
file (openssl genpkey -algorithm ed25519), or an unencrypted OpenSSH ed25519 key
(ssh-keygen -t ed25519 -N ""). The account must have the matching public key.`;

const bad = (file: string, why: string) => new CliError(`${file}: ${why}`, 1, "invalid_key_file");

export function readKeyFile(file: string): Uint8Array {
  let text: string;
  try {
    text = readFileSync(file, "utf8").trim();
  } catch (err) {
    throw bad(file, (err as Error).message);
  }
  warnIfOpen(file);
  if (text.startsWith("-----BEGIN OPENSSH PRIVATE KEY-----")) return fromOpenSsh(file, text);
  if (text.startsWith("-----BEGIN")) return fromPem(file, text);
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Uint8Array.from(Buffer.from(text, "hex"));
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) {
    const bytes = Buffer.from(text.replace(/-/g, "+").replace(/_/g, "/"), "base64");
    if (bytes.length === 32) return Uint8Array.from(bytes);
  }
  throw bad(file, "not an Ed25519 secret key (see `warren login --help` for the formats)");
}

/** Like ssh, say so when others may read the key (not fatal: the user may know better). */
function warnIfOpen(file: string): void {
  if (process.platform === "win32") return;
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) {
    warn(`${file} is readable by others (mode ${mode.toString(8)}); chmod 600 it`);
  }
}

function fromPem(file: string, text: string): Uint8Array {
  let d: string | undefined;
  try {
    const key = createPrivateKey(text);
    if (key.asymmetricKeyType !== "ed25519") throw bad(file, `a ${key.asymmetricKeyType} key, not Ed25519`);
    d = key.export({ format: "jwk" }).d;
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw bad(file, `cannot read the PEM key: ${(err as Error).message}`);
  }
  if (!d) throw bad(file, "the PEM key has no private part");
  return Uint8Array.from(Buffer.from(d, "base64url"));
}

function fromOpenSsh(file: string, text: string): Uint8Array {
  const body = text.replace(/-----[A-Z ]+-----/g, "").replace(/\s+/g, "");
  const buf = Buffer.from(body, "base64");
  const magic = "openssh-key-v1\0";
  if (buf.subarray(0, magic.length).toString("latin1") !== magic) throw bad(file, "not an OpenSSH key");
  let at = magic.length;
  const string = (): Buffer => {
    if (at + 4 > buf.length) throw bad(file, "the OpenSSH key is cut short");
    const length = buf.readUInt32BE(at);
    const value = buf.subarray(at + 4, at + 4 + length);
    if (value.length !== length) throw bad(file, "the OpenSSH key is cut short");
    at += 4 + length;
    return value;
  };
  const cipher = string().toString();
  string(); // kdf name
  string(); // kdf options
  if (cipher !== "none") throw bad(file, "the OpenSSH key is encrypted; decrypt a copy with `ssh-keygen -p`");
  at += 4; // number of keys: one
  string(); // public key blob
  const priv = string();
  // checkint twice, then key type, public key, private key (seed ‖ public key), comment.
  const inner = Buffer.from(priv);
  let j = 8;
  const next = () => {
    const length = inner.readUInt32BE(j);
    const value = inner.subarray(j + 4, j + 4 + length);
    j += 4 + length;
    return value;
  };
  const type = next().toString();
  if (type !== "ssh-ed25519") throw bad(file, `a ${type} key, not ssh-ed25519`);
  next(); // public key
  const secret = next();
  if (secret.length !== 64) throw bad(file, "the OpenSSH ed25519 key has the wrong length");
  return Uint8Array.from(secret.subarray(0, 32));
}
