import type { PublicKeyRecord } from "@warren/protocol";
import { WarrenError } from "../errors.js";
import { path } from "../resources/path.js";
import type { Http } from "../transport/http.js";
import { type KeyStore, storeNames } from "./key-store.js";
import type { DeviceKey, KeyChangeEvent } from "./types.js";

interface Entry {
  /** the user's message keys as last fetched */
  keys: DeviceKey[];
  fetchedAt: number;
  /** the set the user of this client accepted (first seen, or trust()) */
  trusted: DeviceKey[];
  /** keys fetched that are not in `trusted`: send() refuses while there are any */
  added: DeviceKey[];
  removed: DeviceKey[];
}

export interface KeyDirectoryDeps {
  http: Http;
  store: KeyStore;
  /** this client's user id */
  me: () => string;
  onChange: (event: KeyChangeEvent) => void;
  maxAgeMs: number;
}

type KeyList = { keys: PublicKeyRecord[] };

const sameKey = (a: DeviceKey, b: DeviceKey) =>
  a.id === b.id && a.public_key === b.public_key && a.kind === b.kind && a.device === b.device;

/** The keys of `list` that belong to a message device (keys with no device only sign in). */
function deviceKeys(list: KeyList): DeviceKey[] {
  const out: DeviceKey[] = [];
  for (const k of list.keys) {
    const device = (k as { device?: string | null }).device;
    if (typeof device === "string") out.push({ id: k.id, kind: k.kind, public_key: k.public_key, device });
  }
  return out;
}

/**
 * Every user's message keys, fetched once and cached, and the set this client trusts.
 * The first set seen for a user is trusted (trust on first use); a later fetch that
 * brings a key not trusted (a new device, a replaced key) raises key_change and keeps
 * send() from using that user's keys until trust(user), so a key swapped in by the
 * server or anyone else is not used without the person being told.
 */
export function createKeyDirectory(deps: KeyDirectoryDeps) {
  const entries = new Map<string, Entry>();
  const inFlight = new Map<string, Promise<Entry>>();
  /** the change last reported per user, so a refetch does not repeat the event */
  const reported = new Map<string, string>();

  async function loadTrusted(user: string): Promise<DeviceKey[] | undefined> {
    const text = await deps.store.get(storeNames.trusted(user));
    if (!text) return undefined;
    try {
      return JSON.parse(text) as DeviceKey[];
    } catch {
      return undefined;
    }
  }

  const saveTrusted = (user: string, keys: DeviceKey[]) =>
    deps.store.set(storeNames.trusted(user), JSON.stringify(keys));

  async function fetchKeys(user: string): Promise<DeviceKey[]> {
    const url = user === deps.me() ? "/v1/auth/keys" : path`/v1/users/${user}/keys`;
    return deviceKeys(await deps.http<KeyList>("GET", url));
  }

  /** Compares a fresh fetch with the trusted set and reports what changed. */
  async function update(user: string, keys: DeviceKey[]): Promise<Entry> {
    const known = entries.get(user);
    const stored = known?.trusted ?? (await loadTrusted(user));
    // First sight of this user's keys (or of any key: none trusted yet): trust on first use.
    let previous = stored && stored.length > 0 ? stored : undefined;
    if (!previous && keys.length > 0) await saveTrusted(user, keys);
    if (previous) {
      // A device registers its two keys one after the other, so a fetch between them
      // (keys.changed after the first) sees it half made. Its missing kind, for a device
      // whose trusted keys are all still there, is first use of that device: trusted as
      // a first set is, not reported as a change.
      const base = previous;
      const completing = keys.filter(
        (k) =>
          !base.some((t) => sameKey(t, k)) &&
          !base.some((t) => t.device === k.device && t.kind === k.kind) &&
          base.some((t) => t.device === k.device && keys.some((c) => sameKey(c, t))),
      );
      if (completing.length > 0) {
        previous = [...base, ...completing];
        await saveTrusted(user, previous);
      }
    }
    let trusted = previous ?? keys;
    const baseline = trusted;
    const added = keys.filter((k) => !baseline.some((t) => sameKey(t, k)));
    const removed = baseline.filter((t) => !keys.some((k) => sameKey(t, k)));
    if (added.length === 0 && removed.length > 0) {
      // Fewer keys than trusted: fewer readers. Accept it, and say so.
      trusted = keys;
      await saveTrusted(user, trusted);
    }
    const entry: Entry = { keys, fetchedAt: Date.now(), trusted, added, removed };
    entries.set(user, entry);
    const change = JSON.stringify([added.map((k) => k.id), removed.map((k) => k.id)]);
    if ((added.length > 0 || removed.length > 0) && reported.get(user) !== change) {
      reported.set(user, change);
      deps.onChange({ user, added, removed, needsTrust: added.length > 0 });
    }
    if (added.length === 0) reported.delete(user);
    return entry;
  }

  /** The user's entry, fetched if missing, older than maxAgeMs, or `fresh` is asked for. */
  function entryOf(user: string, fresh = false): Promise<Entry> {
    const cached = entries.get(user);
    if (cached && !fresh && Date.now() - cached.fetchedAt < deps.maxAgeMs) return Promise.resolve(cached);
    let pending = inFlight.get(user);
    if (!pending) {
      pending = fetchKeys(user)
        .then((keys) => update(user, keys))
        .finally(() => inFlight.delete(user));
      inFlight.set(user, pending);
    }
    return pending;
  }

  return {
    /** The user's current keys and whether they are all trusted. */
    async keysOf(user: string, fresh = false) {
      const e = await entryOf(user, fresh);
      return { keys: e.keys, trusted: e.added.length === 0, added: e.added, removed: e.removed };
    },

    /** The keys to seal for: refuses (untrusted_keys) while the user has keys not trusted. */
    async sendable(user: string, fresh = false): Promise<DeviceKey[]> {
      const e = await entryOf(user, fresh);
      if (e.added.length > 0) {
        throw new WarrenError(
          "untrusted_keys",
          `The keys of user ${user} changed; call trust("${user}") once the person has been told`,
          0,
          { user, added: e.added, removed: e.removed },
        );
      }
      return e.keys;
    },

    /**
     * The user's current keys that are trusted: for my own other devices, so a device
     * added to my account gets no copies until trust(me), while I go on messaging others.
     */
    async trustedKeys(user: string, fresh = false): Promise<DeviceKey[]> {
      const e = await entryOf(user, fresh);
      return e.keys.filter((k) => e.trusted.some((t) => sameKey(t, k)));
    },

    /**
     * The server announced a change to `user`'s keys (keys.changed): fetch them again
     * now if this client already holds them, so a new key is reported at once rather
     * than at the next send. A user never fetched is left alone: their first fetch, when
     * one is needed, is the first sight (trust on first use) as before.
     */
    async refreshIfKnown(user: string): Promise<void> {
      if (entries.has(user)) await entryOf(user, true);
    },

    /** Accepts the user's current keys (fetched now if never fetched). */
    async trust(user: string): Promise<void> {
      const e = entries.get(user) ?? (await entryOf(user));
      e.trusted = e.keys;
      e.added = [];
      e.removed = [];
      reported.delete(user);
      await saveTrusted(user, e.keys);
    },

    /**
     * The Ed25519 key `keyId` of `user`, to check a signature. Not in the cached set:
     * fetched once more (a device added since), which reports a key change if so.
     */
    async signingKey(user: string, keyId: string): Promise<DeviceKey | undefined> {
      const find = (e: Entry) => e.keys.find((k) => k.id === keyId && k.kind === "ed25519");
      const found = find(await entryOf(user));
      return found ?? find(await entryOf(user, true));
    },

    /**
     * This device registered (or replaced) its own keys: they are trusted without asking,
     * since this client made them; `replaced` are this device's old keys, now gone.
     */
    async ownKeysChanged(added: DeviceKey[], replaced: DeviceKey[]): Promise<void> {
      const user = deps.me();
      const e = entries.get(user);
      const drop = (list: DeviceKey[]) =>
        list.filter((k) => !replaced.some((r) => r.id === k.id) && !added.some((a) => a.id === k.id));
      const stored = e?.trusted ?? (await loadTrusted(user));
      if (stored) await saveTrusted(user, [...drop(stored), ...added]);
      if (e) {
        e.trusted = [...drop(e.trusted), ...added];
        e.keys = [...drop(e.keys), ...added];
        e.added = e.added.filter((k) => !added.some((a) => a.id === k.id));
      }
    },
  };
}

export type KeyDirectory = ReturnType<typeof createKeyDirectory>;
