import type { Tokens } from "@warren/protocol";
import { readJson, removeStateFile, writeSecretJson } from "./secret-file.js";

/** The signed-in account: one per config directory (credentials.json, mode 0600). */
export interface Credentials {
  /** the server's base URL, e.g. https://warren.example.org */
  server: string;
  user: { id: string; username: string };
  tokens: Tokens;
}

const FILE = "credentials.json";

export function loadCredentials(): Credentials | undefined {
  const value = readJson(FILE) as Partial<Credentials> | undefined;
  if (!value || typeof value.server !== "string" || !value.user?.id || !value.tokens?.refresh_token) {
    return undefined;
  }
  return value as Credentials;
}

export function saveCredentials(credentials: Credentials): void {
  writeSecretJson(FILE, credentials);
}

export function clearCredentials(): void {
  removeStateFile(FILE);
}

/** One spelling per server, so stored state keyed by server matches however it was typed. */
export function normalizeServer(url: string): string {
  return url.trim().replace(/\/+$/, "");
}
