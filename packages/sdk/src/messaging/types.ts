import type { KeyKind } from "@warren/protocol";
import type { SocketOptions, WarrenSocket } from "../transport/socket-types.js";
import type { KeyStore } from "./key-store.js";

/** A message device's public key: an Ed25519 key signs, an X25519 key receives. */
export interface DeviceKey {
  id: string;
  kind: KeyKind;
  /** 32 bytes, base64 */
  public_key: string;
  /** the hub device id (`?device=`) it belongs to */
  device: string;
}

/** A decrypted, signature-checked direct message. */
export interface DirectMessage {
  /** the server's message id (also what markRead takes) */
  id: string;
  from: string;
  to: string;
  text: string;
  /** the sender's clock, signed and sealed with the text */
  sent_at: string;
  client_msg_id: string;
  /**
   * "verified": the SDK checked the sender's signature over this copy itself. Only with
   * setup({acceptUnverified: true}) does anything else come through: "unsigned" or
   * "unverified" (the signing key is unknown), as a server with ALLOW_UNSIGNED or
   * ALLOW_UNVERIFIED accepts them.
   */
  verification: "verified" | "unverified" | "unsigned";
  /** sent by this user (from another of my devices, or this one, in history) */
  fromMe: boolean;
  /** the sending device, when the signing key names one */
  device?: string;
}

export interface SendResult {
  id: string;
  client_msg_id: string;
  sent_at: string;
}

/**
 * A user's message keys differ from the ones this client trusted. `added` non-empty (a
 * new device, or a key replaced): send() refuses that user until trust(user), as a
 * messenger asks before talking to a changed safety number. For my own account, the
 * new device simply gets no copies until trust(myId); sending to others goes on.
 * Only `removed`: fewer readers, nothing to approve; the set is updated, this informs.
 */
export interface KeyChangeEvent {
  user: string;
  added: DeviceKey[];
  removed: DeviceKey[];
  /** true while send() refuses this user */
  needsTrust: boolean;
}

export interface StatusEvent {
  /** the message id */
  id: string;
  /** the recipient device's key the status is about */
  device_key_id: string;
  status: "delivered" | "read" | "expired";
  at: string;
}

/** A message that could not be read: a bad signature, a copy that does not open, or keys that could not be fetched. */
export interface DirectErrorEvent {
  error: Error;
  /** the message it concerns, if any */
  message?: { id: string; from: string | null };
}

export interface DirectEvents {
  key_change: KeyChangeEvent;
  status: StatusEvent;
  error: DirectErrorEvent;
}

export interface SetupOptions {
  /** this device's hub id (`?device=`): its keys and its socket are named by it */
  device: string;
  /** this device's Ed25519 secret (32 bytes); default: the store's, else a new one */
  identity?: Uint8Array;
  /** this device's X25519 secret (32 bytes); default: the store's, else a new one */
  messageKey?: Uint8Array;
  /** where secrets and trusted key sets live; default: in memory, gone with the client */
  store?: KeyStore;
  /**
   * The socket to receive on: a WarrenSocket made with client.socket({device}), or
   * options for one that setup makes (in Node 20 pass {WebSocket} from the `ws` package).
   */
  socket?: WarrenSocket | SocketOptions;
  /** connect the socket now (default true) */
  connect?: boolean;
  /** yield unsigned and unverified messages too, marked so (default false: they are dropped) */
  acceptUnverified?: boolean;
  /** fetch a user's keys again when the cached set is older than this (default 5 minutes) */
  keyMaxAgeMs?: number;
}

/** What setup registered (or found) for this device. */
export interface DirectDevice {
  user: string;
  device: string;
  /** the Ed25519 key's id: signing_key_id */
  signing_key_id: string;
  /** the X25519 key's id: device_key_id */
  device_key_id: string;
  identity_public_key: string;
  message_public_key: string;
}
