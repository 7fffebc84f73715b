import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

/**
 * Secrets the server must read back (TOTP secrets) are stored sealed: AES-256-GCM under
 * the data key, as `sealed:v1:<key id>:<base64url(iv ‖ ciphertext ‖ tag)>`. The key id
 * (the first 8 bytes of SHA-256 of the key, in hex) says which key opens it, so several
 * keys can be in use during a rotation. The additional data names the column and the row
 * (`users.totp_secret:<user id>`), so a sealed value copied to another row does not open.
 * A value without the prefix is a plaintext row from before sealing: it still reads, and
 * `warren-server rotate-keys` seals it.
 */
const PREFIX = "sealed:v1:";
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SealError extends Error {}

const keyId = (key: Buffer) => createHash("sha256").update(key).digest("hex").slice(0, 16);

export function createSealer(keys: { current: Buffer; old: Buffer[] }) {
  const byId = new Map<string, Buffer>();
  for (const key of [keys.current, ...keys.old]) byId.set(keyId(key), key);
  const currentId = keyId(keys.current);

  return {
    currentKeyId: currentId,

    seal(plaintext: string, context: string): string {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", keys.current, iv);
      cipher.setAAD(Buffer.from(context, "utf8"));
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      const sealed = Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url");
      return `${PREFIX}${currentId}:${sealed}`;
    },

    open(stored: string, context: string): string {
      if (!stored.startsWith(PREFIX)) return stored;
      const [id, data] = stored.slice(PREFIX.length).split(":", 2);
      const key = byId.get(id ?? "");
      if (!key || !data) {
        throw new SealError(
          `a stored secret is sealed with key ${id}, which is neither DATA_ENCRYPTION_KEY nor one of DATA_ENCRYPTION_OLD_KEYS`,
        );
      }
      const raw = Buffer.from(data, "base64url");
      const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context, "utf8"));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      try {
        return Buffer.concat([
          decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)),
          decipher.final(),
        ]).toString("utf8");
      } catch {
        throw new SealError(
          `a stored secret does not open under key ${id}: altered, or moved from another row`,
        );
      }
    },

    /** True when `stored` is plaintext or sealed under a key other than the current one. */
    needsReseal(stored: string): boolean {
      return !stored.startsWith(`${PREFIX}${currentId}:`);
    },
  };
}

export type Sealer = ReturnType<typeof createSealer>;

/** The additional data of a user's sealed TOTP secret. */
export const totpContext = (userId: string) => `users.totp_secret:${userId}`;
