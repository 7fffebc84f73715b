/**
 * Where a device keeps its message secrets and the key sets it trusts: a small
 * string-to-string store, so the CLI can back it with a file (mode 0600) and the web
 * app with IndexedDB. Names are plain ASCII ("device/<id>/ed25519", "trusted/<user>");
 * values are base64 or JSON. Secrets never leave it except to sign and open.
 */
export interface KeyStore {
  get(name: string): string | undefined | Promise<string | undefined>;
  set(name: string, value: string): void | Promise<void>;
}

/** The default: a Map, gone when the client is. Seed it with `entries` from elsewhere. */
export function createMemoryKeyStore(entries: Record<string, string> = {}) {
  const map = new Map(Object.entries(entries));
  return {
    get: (name: string) => map.get(name),
    set(name: string, value: string) {
      map.set(name, value);
    },
    /** everything stored, e.g. to persist it */
    entries: (): Record<string, string> => Object.fromEntries(map),
  } satisfies KeyStore & { entries(): Record<string, string> };
}

/** Store names, in one place. */
export const storeNames = {
  identity: (device: string) => `device/${device}/ed25519`,
  messageKey: (device: string) => `device/${device}/x25519`,
  trusted: (user: string) => `trusted/${user}`,
};
