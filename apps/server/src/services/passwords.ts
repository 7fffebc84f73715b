import { hash, verify } from "@node-rs/argon2";

// argon2id with the library's defaults (m=19 MiB, t=2, p=1): OWASP's minimum
// recommendation for argon2id.
export async function hashPassword(password: string): Promise<string> {
  return hash(password);
}

// A real hash of a random string, made once: checking against it when the account
// does not exist costs the same as a real check, so timing does not reveal accounts.
let decoy: Promise<string> | undefined;

export async function verifyPassword(stored: string | null | undefined, password: string): Promise<boolean> {
  if (!stored) {
    decoy ??= hash(crypto.randomUUID());
    await verify(await decoy, password).catch(() => false);
    return false;
  }
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}
