import type { KeyStore } from "@warren/sdk";

/**
 * The browser device's message secrets, in IndexedDB. The SDK's X25519 and Ed25519 code
 * needs the raw secrets, so each value is sealed with an AES-GCM key that WebCrypto made
 * non-extractable and that IndexedDB stores as a CryptoKey: script on the page can use it
 * but never read it, and a copy of the database files alone opens nothing.
 */
const DB_NAME = "warren";
const STORE = "keys";
const WRAP = "__wrap_key";

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function tx<T>(
  db: IDBDatabase,
  mode: IDBTransactionMode,
  run: (s: IDBObjectStore) => IDBRequest,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = run(db.transaction(STORE, mode).objectStore(STORE));
    req.onsuccess = () => resolve(req.result as T);
    req.onerror = () => reject(req.error);
  });
}

interface Sealed {
  iv: Uint8Array;
  data: ArrayBuffer;
}

export async function createIndexedDbKeyStore(scope: string): Promise<KeyStore> {
  const db = await openDb();
  let wrap = await tx<CryptoKey | undefined>(db, "readonly", (s) => s.get(WRAP));
  if (!wrap) {
    wrap = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
    await tx(db, "readwrite", (s) => s.put(wrap, WRAP));
  }
  const key = wrap;
  const name = (n: string) => `${scope}/${n}`;
  return {
    async get(n) {
      const sealed = await tx<Sealed | undefined>(db, "readonly", (s) => s.get(name(n)));
      if (!sealed) return undefined;
      const plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: sealed.iv as BufferSource },
        key,
        sealed.data,
      );
      return new TextDecoder().decode(plain);
    },
    async set(n, value) {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const data = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, new TextEncoder().encode(value));
      await tx(db, "readwrite", (s) => s.put({ iv, data } satisfies Sealed, name(n)));
    },
  };
}
