import type { DirectMessageAccepted, SendDirectMessageBody } from "@warren/protocol";
import { randomBytes, toHex, utf8 } from "../crypto/encoding.js";
import { DM_VERSION, type SealedCopy, signEnvelope } from "../crypto/envelope.js";
import { seal } from "../crypto/hpke.js";
import { WarrenError } from "../errors.js";
import type { Http } from "../transport/http.js";
import type { WarrenSocket } from "../transport/socket-types.js";
import type { KeyDirectory } from "./key-directory.js";
import { messageAad } from "./receive.js";
import type { DeviceKey, SendResult } from "./types.js";

export interface SenderDeps {
  http: Http;
  directory: KeyDirectory;
  /** the device's socket, if any: dm.send goes over it while it is connected */
  socket: () => WarrenSocket | undefined;
  /** this device: who signs, and which of my keys is this device's own */
  user: string;
  identity: Uint8Array;
  signingKeyId: string;
  deviceKeyId: string;
  /** REST attempts when the server cannot be reached (same client_msg_id each time) */
  attempts?: number;
  retryDelayMs?: number;
}

/** Bytes a dm.send frame has beyond its body: `"type":"dm.send","id":"r123",` with room to spare. */
const FRAME_OVERHEAD = 128;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A socket failure says nothing about whether the server stored the message: retry over REST. */
const lostOnSocket = (err: unknown) =>
  err instanceof WarrenError && (err.code === "disconnected" || err.code === "timeout");

/** The server's time, when it refused a sent_at too far from its clock (400 invalid_request). */
function skewedClock(err: WarrenError): number | undefined {
  if (err.code !== "invalid_request") return undefined;
  const details = err.details as { field?: unknown; server_time?: unknown } | undefined;
  if (details?.field !== "sent_at" || typeof details.server_time !== "string") return undefined;
  const time = Date.parse(details.server_time);
  return Number.isNaN(time) ? undefined : time;
}

/**
 * Sending one direct message: seal the text once per X25519 key of the recipient's
 * devices and of my other devices, sign the envelope with this device's Ed25519 key,
 * and hand it to the server, over the socket while it is connected, else over REST.
 * Every retry reuses the client_msg_id, so the server stores the message once.
 */
export function createSender(deps: SenderDeps) {
  const attempts = deps.attempts ?? 3;
  const retryDelayMs = deps.retryDelayMs ?? 500;
  /** the server's clock minus this device's, once the server refused a sent_at */
  let clockOffsetMs = 0;

  /**
   * The keys to seal for: the recipient's (refused, untrusted_keys, while they changed
   * untrusted) and my other devices' trusted ones (a device just added to my account
   * gets copies once I trust it).
   */
  async function recipientsOf(to: string, fresh: boolean): Promise<DeviceKey[]> {
    const [theirs, mine] = await Promise.all([
      deps.directory.sendable(to, fresh),
      to === deps.user ? Promise.resolve([]) : deps.directory.trustedKeys(deps.user, fresh),
    ]);
    // To myself: my other devices are the recipients; this one needs no copy.
    const receiving = (k: DeviceKey) => k.kind === "x25519" && k.id !== deps.deviceKeyId;
    const targets = new Map<string, DeviceKey>();
    for (const k of theirs)
      if (k.kind === "x25519" && (to !== deps.user || receiving(k))) targets.set(k.id, k);
    if (targets.size === 0) {
      // The cached set may predate the user's first device: look again before refusing.
      if (!fresh) return recipientsOf(to, true);
      throw new WarrenError("no_device_keys", `User ${to} has no device that can receive messages`, 0, {
        user: to,
      });
    }
    for (const k of mine) if (receiving(k)) targets.set(k.id, k);
    return [...targets.values()];
  }

  async function envelope(to: string, text: string, clientMsgId: string, sentAt: string, keys: DeviceKey[]) {
    const plaintext = utf8(JSON.stringify({ text, sent_at: sentAt }));
    const aad = messageAad(deps.user, to, clientMsgId);
    const copies: SealedCopy[] = await Promise.all(
      keys.map(async (k) => ({
        device_key_id: k.id,
        ...(await seal(k.public_key, plaintext, DM_VERSION, aad)),
      })),
    );
    const fields = { sender: deps.user, recipient: to, sent_at: sentAt, client_msg_id: clientMsgId };
    const { signature } = await signEnvelope(deps.identity, fields, copies);
    const body: SendDirectMessageBody = {
      to,
      client_msg_id: clientMsgId,
      sent_at: sentAt,
      copies,
      signature,
      signing_key_id: deps.signingKeyId,
    };
    return body;
  }

  async function overRest(body: SendDirectMessageBody): Promise<SendResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await deps.http<DirectMessageAccepted>("POST", "/v1/messages/direct", body);
      } catch (err) {
        const unreachable = err instanceof WarrenError && err.code === "network_error";
        if (!unreachable || attempt >= attempts) throw err;
        await sleep(retryDelayMs * attempt);
      }
    }
  }

  /** Whether the dm.send frame fits the hub's max_message_bytes (a bigger one closes the socket, 1009). */
  function fitsFrame(socket: WarrenSocket, body: SendDirectMessageBody): boolean {
    const limit = socket.welcome?.limits.max_message_bytes ?? 0;
    // + room for the "type" and "id" the frame adds
    return utf8(JSON.stringify(body)).length + FRAME_OVERHEAD <= limit;
  }

  async function deliver(body: SendDirectMessageBody): Promise<SendResult> {
    const socket = deps.socket();
    if (socket?.connected && fitsFrame(socket, body)) {
      try {
        const r = await socket.request({ type: "dm.send", ...body });
        return { id: r.id, client_msg_id: r.client_msg_id, sent_at: r.sent_at };
      } catch (err) {
        if (!lostOnSocket(err)) throw err;
      }
    }
    return overRest(body);
  }

  return {
    /**
     * Sends `text` to `to`; resolves once the server has stored it. Rejects with
     * untrusted_keys (trust() first), no_device_keys, or the server's error
     * (peer_unavailable for a stranger or a block).
     */
    async send(to: string, text: string, options: { clientMsgId?: string } = {}): Promise<SendResult> {
      const clientMsgId = options.clientMsgId ?? toHex(randomBytes(16));
      let sentAt = new Date(Date.now() + clockOffsetMs).toISOString();
      let keys = await recipientsOf(to, false);
      // At most one reseal for each reason the server can give; nothing was stored for either.
      let resealed = { keys: false, clock: false };
      for (;;) {
        try {
          return await deliver(await envelope(to, text, clientMsgId, sentAt, keys));
        } catch (err) {
          if (!(err instanceof WarrenError)) throw err;
          if (err.code === "stale_device_keys" && !resealed.keys) {
            // A device was added or removed since the keys were cached: fetch both key
            // sets again (which raises key_change and may refuse) and reseal.
            resealed = { ...resealed, keys: true };
            keys = await recipientsOf(to, true);
            continue;
          }
          const serverTime = skewedClock(err);
          if (serverTime !== undefined && !resealed.clock) {
            // This device's clock is more than 5 minutes off the server's: keep the
            // difference for later sends, and sign and seal with the corrected time.
            resealed = { ...resealed, clock: true };
            clockOffsetMs = serverTime - Date.now();
            sentAt = new Date(serverTime).toISOString();
            continue;
          }
          throw err;
        }
      }
    },
  };
}

export type Sender = ReturnType<typeof createSender>;
