import type { DirectMessageList, KeyKind, Me, PublicKeyRecord } from "@warren/protocol";
import { ed25519FromSecret, generateEd25519 } from "../crypto/ed25519.js";
import { fromBase64, toBase64 } from "../crypto/encoding.js";
import { generateX25519, x25519FromSecret } from "../crypto/hpke.js";
import { path, withQuery } from "../resources/path.js";
import { createEmitter } from "../transport/emitter.js";
import type { Http } from "../transport/http.js";
import type { SocketOptions, WarrenSocket } from "../transport/socket-types.js";
import { createInbox, type Inbox } from "./inbox.js";
import { createKeyDirectory, type KeyDirectory } from "./key-directory.js";
import { createMemoryKeyStore, type KeyStore, storeNames } from "./key-store.js";
import { openDirectMessage, type ReceiverContext, UnreadableMessageError } from "./receive.js";
import { createSender, type Sender } from "./sender.js";
import type {
  DeviceKey,
  DirectDevice,
  DirectEvents,
  DirectMessage,
  SendResult,
  SetupOptions,
} from "./types.js";

export interface DirectDeps {
  http: Http;
  /** makes a hub socket for this client (client.socket) */
  socket: (options: SocketOptions) => WarrenSocket;
}

const DEFAULT_KEY_MAX_AGE_MS = 5 * 60_000;
/** How long keys.changed frames for one user are gathered before fetching their keys. */
const KEY_CHANGE_SETTLE_MS = 250;

interface Ready {
  device: DirectDevice;
  store: KeyStore;
  directory: KeyDirectory;
  sender: Sender;
  inbox: Inbox;
  socket: WarrenSocket;
  context: ReceiverContext;
  /** stops listening, and closes the socket if setup made it */
  stop: () => void;
}

const isSocket = (value: SetupOptions["socket"]): value is WarrenSocket =>
  typeof (value as WarrenSocket | undefined)?.request === "function";

const sameBytes = (a: string, b: string) => toBase64(fromBase64(a)) === toBase64(fromBase64(b));

/** A stored secret, else the one given, else a new one; stored either way. */
async function secretFor(
  store: KeyStore,
  name: string,
  given: Uint8Array | undefined,
  make: () => Uint8Array,
): Promise<Uint8Array> {
  const stored = await store.get(name);
  const secret = given ?? (stored ? fromBase64(stored) : make());
  if (stored !== toBase64(secret)) await store.set(name, toBase64(secret));
  return secret;
}

/**
 * End-to-end encrypted direct messages for one device of the signed-in user:
 * `client.direct`. (`client.messages` is community and network chat.) Call setup()
 * first; it registers this device's keys and listens on its socket.
 */
export function createDirect(deps: DirectDeps) {
  const { http } = deps;
  const events = createEmitter<DirectEvents>();
  let ready: Ready | undefined;

  const need = (): Ready => {
    if (!ready) throw new Error("client.direct.setup({ device }) first");
    return ready;
  };

  function close(): void {
    ready?.stop();
    ready = undefined;
  }

  /** Finds this device's key of `kind` on the server, or registers it, replacing a stale one. */
  async function ensureKey(
    mine: PublicKeyRecord[],
    device: string,
    kind: KeyKind,
    publicKey: string,
  ): Promise<{ key: DeviceKey; replaced?: DeviceKey }> {
    const existing = mine.find((k) => (k as { device?: string | null }).device === device && k.kind === kind);
    const asDeviceKey = (k: PublicKeyRecord): DeviceKey => ({
      id: k.id,
      kind,
      public_key: k.public_key,
      device,
    });
    if (existing && sameBytes(existing.public_key, publicKey)) return { key: asDeviceKey(existing) };
    // The server holds another key for this device (its secret is not in this store):
    // replace it, which the user's contacts will see as a key change.
    if (existing) await http<void>("DELETE", path`/v1/auth/keys/${existing.id}`);
    const added = await http<PublicKeyRecord>("POST", "/v1/auth/keys", {
      kind,
      public_key: publicKey,
      device,
      label: `messages on ${device}`.slice(0, 64),
    });
    return existing
      ? { key: asDeviceKey(added), replaced: asDeviceKey(existing) }
      : { key: asDeviceKey(added) };
  }

  return {
    /**
     * Makes (or loads from the store) this device's Ed25519 and X25519 keys, registers
     * them with POST /v1/auth/keys {device}, reusing keys already registered, and starts
     * receiving on the device's socket. Call again to switch device or socket.
     */
    async setup(options: SetupOptions): Promise<DirectDevice> {
      const store = options.store ?? createMemoryKeyStore();
      const { device } = options;
      const identitySecret = await secretFor(
        store,
        storeNames.identity(device),
        options.identity,
        () => generateEd25519().secretKey,
      );
      const messageSecret = await secretFor(
        store,
        storeNames.messageKey(device),
        options.messageKey,
        () => generateX25519().secretKey,
      );
      const identity = ed25519FromSecret(identitySecret);
      const messageKey = x25519FromSecret(messageSecret);

      const me = await http<Me>("GET", "/v1/auth/me");
      const mine = (await http<{ keys: PublicKeyRecord[] }>("GET", "/v1/auth/keys")).keys;
      const signing = await ensureKey(mine, device, "ed25519", identity.publicKey);
      const receiving = await ensureKey(mine, device, "x25519", messageKey.publicKey);

      close();
      const directory = createKeyDirectory({
        http,
        store,
        me: () => me.id,
        onChange: (e) => events.emit("key_change", e),
        maxAgeMs: options.keyMaxAgeMs ?? DEFAULT_KEY_MAX_AGE_MS,
      });
      const replaced = [signing.replaced, receiving.replaced].filter((k) => k !== undefined);
      await directory.ownKeysChanged([signing.key, receiving.key], replaced);

      const ownsSocket = !isSocket(options.socket);
      const socket = isSocket(options.socket) ? options.socket : deps.socket({ ...options.socket, device });
      const context: ReceiverContext = {
        user: me.id,
        deviceKeyId: receiving.key.id,
        messageKey: messageSecret,
        directory,
        acceptUnverified: options.acceptUnverified ?? false,
      };
      const inbox = createInbox({ socket, context, onError: (e) => events.emit("error", e) });
      const offStatus = socket.on("dm.status", (f) =>
        events.emit("status", { id: f.id, device_key_id: f.device_key_id, status: f.status, at: f.at }),
      );
      // The server says a contact's (or my) device keys changed: fetch them now, so a new
      // key raises key_change at once instead of at the next send.
      // A device replacing its keys sends several in a row: one fetch after the burst.
      const keyTimers = new Map<string, ReturnType<typeof setTimeout>>();
      const offKeys = socket.on("keys.changed", (f) => {
        clearTimeout(keyTimers.get(f.user));
        const timer = setTimeout(() => {
          keyTimers.delete(f.user);
          directory.refreshIfKnown(f.user).catch((e: unknown) => events.emit("error", { error: e as Error }));
        }, KEY_CHANGE_SETTLE_MS);
        keyTimers.set(f.user, timer);
      });
      const sender = createSender({
        http,
        directory,
        socket: () => socket,
        user: me.id,
        identity: identitySecret,
        signingKeyId: signing.key.id,
        deviceKeyId: receiving.key.id,
      });
      const info: DirectDevice = {
        user: me.id,
        device,
        signing_key_id: signing.key.id,
        device_key_id: receiving.key.id,
        identity_public_key: identity.publicKey,
        message_public_key: messageKey.publicKey,
      };
      const stop = () => {
        offStatus();
        offKeys();
        for (const timer of keyTimers.values()) clearTimeout(timer);
        inbox.close();
        if (ownsSocket) socket.close();
      };
      ready = { device: info, store, directory, sender, inbox, socket, context, stop };
      // After the listeners: a connecting device is sent its pending copies at once.
      if (options.connect !== false) await socket.connect();
      return info;
    },

    /** Seals, signs and sends `text` to a user; resolves once the server stored it. */
    send(userId: string, text: string, options: { clientMsgId?: string } = {}): Promise<SendResult> {
      return need().sender.send(userId, text, options);
    },

    /**
     * Decrypted incoming messages, oldest first: from other users, and copies of what
     * my other devices sent. Each is signature-checked before it comes out and
     * acknowledged (dm.ack) once it has. `for await (const m of client.direct.messages())`.
     */
    messages(): AsyncIterableIterator<DirectMessage> {
      return need().inbox.messages();
    },

    /** Marks messages read on this device (dm.read); their senders get dm.status "read". */
    async markRead(ids: string[]): Promise<void> {
      const { socket } = need();
      for (let i = 0; i < ids.length; i += 256) {
        await socket.request({ type: "dm.read", ids: ids.slice(i, i + 256) });
      }
    },

    /** Accepts a user's current keys after a key_change, so send() uses them again. */
    trust(userId: string): Promise<void> {
      return need().directory.trust(userId);
    },

    /** A user's message keys, whether they are trusted, and what changed if not. */
    keys(userId: string, options: { fresh?: boolean } = {}) {
      return need().directory.keysOf(userId, options.fresh);
    },

    /**
     * My conversation with a user from the server's history, newest first, decrypted
     * for this device; messages that do not verify are left out (and reported as errors).
     */
    async history(userId: string, query: { before?: string; limit?: number } = {}) {
      const { device, context } = need();
      const list = await http<DirectMessageList>(
        "GET",
        withQuery("/v1/messages/direct", { with: userId, device_key_id: device.device_key_id, ...query }),
      );
      const messages: (DirectMessage & { status: string })[] = [];
      for (const m of list.messages) {
        try {
          messages.push({ ...(await openDirectMessage(m, context)), status: m.status });
        } catch (err) {
          if (!(err instanceof UnreadableMessageError)) throw err;
          events.emit("error", { error: err, message: { id: m.id, from: m.from } });
        }
      }
      return { messages, next_cursor: list.next_cursor };
    },

    on: events.on,

    /** Stops receiving: pending messages() loops end; a socket setup made is closed. */
    close,

    /** this device's registration, once set up */
    get device(): DirectDevice | undefined {
      return ready?.device;
    },
    /** messages received and opened that messages() has not handed out yet */
    get pending(): number {
      return ready?.inbox.pending ?? 0;
    },
    /** the socket messages arrive on, once set up */
    get socket(): WarrenSocket | undefined {
      return ready?.socket;
    },
  };
}

export type DirectMessages = ReturnType<typeof createDirect>;
