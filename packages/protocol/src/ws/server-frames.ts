import type { ErrorCode } from "../errors.js";
import type { PeerPathReport } from "../http/peer-paths.js";

/**
 * Frames the server sends, by their version-2 names (frame-names.ts has the version-1
 * names). Shapes are documented with examples in docs/protocol.md.
 */

export interface WelcomeFrame {
  type: "welcome";
  user: { id: string; username: string };
  device: string;
  session: string;
  server_time: string;
  limits: {
    max_message_bytes: number;
    message_rate_limit: number;
    message_burst_limit: number;
    heartbeat_interval_ms: number;
  };
  /** the protocol version this socket speaks: the one its client asked for, or 1 */
  protocol_version: number;
}

/**
 * One of `user`'s device keys was added or removed: fetch the user's keys again
 * (GET /v1/users/{id}/keys); a new key must be accepted before messages are sealed to it.
 */
export interface KeysChangedFrame {
  type: "keys.changed";
  user: string;
  change: "added" | "removed";
  key: { id: string; kind: "ed25519" | "x25519"; device: string };
}

export interface ErrorFrame {
  type: "error";
  re?: string;
  code: ErrorCode;
  message: string;
  retry_after_ms?: number;
  details?: unknown;
}

/** The one reply to a request frame that carried an id. */
export interface ResultFrame {
  type: "result";
  re?: string;
  result: unknown;
}

export interface CommandResultFrame {
  type: "command.result";
  re?: string;
  result: unknown;
}

export interface RelayedFrame {
  type: "offer" | "answer" | "candidate" | "signal";
  from: string;
  from_device: string;
  payload: unknown;
}

export interface RoomInfo {
  id: string;
  name: string;
  owner: string;
  owner_key: string | null;
  max_members: number;
  persistent: boolean;
  has_password: boolean;
  created_at: string;
}

export interface RoomMember {
  user: string;
  username: string;
  online: boolean;
}

export interface PresenceFrame {
  type: "presence";
  user: string;
  status: "online" | "offline";
  last_seen: string | null;
}

export type RoomEventFrame =
  | { type: "room.peer_joined"; room: string; user: string; username: string }
  | { type: "room.peer_left"; room: string; user: string; reason: "left" | "disconnected" | "kicked" }
  | { type: "kicked"; room: string; by: string; until: string }
  | { type: "room.renamed"; room: string; name: string }
  | { type: "room.deleted"; room: string; reason: "deleted" | "owner_left" | "expired" }
  | { type: "broadcast"; room: string; from: string; from_device: string; payload: unknown };

/** A chat message as the hub carries it (`chat.message`). */
export interface ChatMessageData {
  id: string;
  tenant_id: string;
  /** null: the community's channel */
  network_id: string | null;
  /** null once the author deleted their account */
  user_id: string | null;
  username: string;
  content: string;
  timestamp: string;
  edited_at: string | null;
}

export type ChatEventFrame =
  | { type: "chat.message"; data: ChatMessageData }
  | { type: "chat.message_updated"; data: ChatMessageData }
  | { type: "chat.message_deleted"; data: { id: string; tenant_id: string; network_id: string | null } };

/** A user in a community event. */
export interface MemberRef {
  id: string;
  username: string;
}

/**
 * Membership of a community (network_id null) or of one of its networks.
 * member.removed goes to the scope's topic and to the removed user's own topic, before
 * their sockets leave the scope's topics.
 */
export type CommunityEventFrame =
  | {
      type: "member.joined";
      tenant_id: string;
      network_id: string | null;
      user: MemberRef;
      role?: "owner" | "admin" | "moderator" | "member";
      status?: "active" | "pending";
    }
  | {
      type: "member.removed";
      tenant_id: string;
      network_id: string | null;
      user_id: string;
      reason: "left" | "kicked" | "banned";
      ban_reason?: string | null;
      until?: string | null;
    }
  | {
      type: "member.updated";
      tenant_id: string;
      user_id: string;
      role: "owner" | "admin" | "moderator" | "member";
    }
  /** the community is gone; its members' sockets leave its topics next */
  | { type: "tenant.deleted"; tenant_id: string };

/**
 * A network's own events. join.request goes to the user topics of those who
 * may answer it (moderators and above who can see the network); join.denied to the
 * requester's user topic; network.deleted to the network's topic, before its members'
 * sockets leave that topic.
 */
export type NetworkEventFrame =
  | { type: "network.deleted"; network_id: string; tenant_id: string }
  /** an admin changed the network's settings; `changes` holds the fields that changed */
  | { type: "network.updated"; network_id: string; tenant_id: string; changes: Record<string, unknown> }
  | { type: "join.request"; tenant_id: string; network_id: string; user: MemberRef }
  | { type: "join.denied"; tenant_id: string; network_id: string };

/** A device in a network, as peer events carry it (the same object as GET /v1/networks/:id/peers). */
export interface PeerData {
  id: string;
  network_id: string;
  device_id: string;
  user_id: string;
  /** the device's name */
  name: string;
  address: string;
  /** WireGuard public key, base64 */
  public_key: string;
  endpoint: string | null;
  online: boolean;
  last_seen: string | null;
}

/**
 * Peers of a network, sent to the network's topic.
 * peer.updated carries the whole peer after a rename, key rotation, address change or
 * new endpoint; peer.status says a device's first hub socket opened or its last closed.
 */
export type PeerEventFrame =
  | { type: "peer.added"; network_id: string; peer: PeerData }
  | { type: "peer.updated"; network_id: string; peer: PeerData }
  | { type: "peer.removed"; network_id: string; peer_id: string; device_id: string; user_id: string }
  | {
      type: "peer.status";
      network_id: string;
      peer_id: string;
      status: "online" | "offline";
      endpoint: string | null;
    }
  | {
      /** a device reported new paths to its peers (GET /networks/:id/peers has the latest) */
      type: "peer.path";
      network_id: string;
      peer_id: string;
      device_id: string;
      report: PeerPathReport;
    };

/**
 * A direct message's copy for the device this socket is on: sent live to
 * every socket of a device holding the copy's key, and to a connecting device for its
 * pending copies, oldest first, in pages of 100.
 */
export interface DirectMessageFrame {
  type: "dm";
  id: string;
  from: string;
  to: string;
  sent_at: string;
  client_msg_id: string;
  signature: string | null;
  signing_key_id: string | null;
  verification: "verified" | "unverified" | "unsigned";
  /** [device_key_id, base64 SHA-256] of every copy, sorted by device_key_id */
  hashes: [string, string][];
  copy: { device_key_id: string; enc: string; ciphertext: string };
}

/** To the sender's sockets: a recipient device's copy moved forward (never back). */
export interface DirectMessageStatusFrame {
  type: "dm.status";
  id: string;
  device_key_id: string;
  status: "delivered" | "read" | "expired";
  at: string;
}

export interface ServerShutdownFrame {
  type: "server.shutdown";
  reconnect_after_ms: number;
}

export type ServerFrame =
  | WelcomeFrame
  | ErrorFrame
  | ResultFrame
  | CommandResultFrame
  | RelayedFrame
  | PresenceFrame
  | RoomEventFrame
  | ChatEventFrame
  | CommunityEventFrame
  | PeerEventFrame
  | NetworkEventFrame
  | DirectMessageFrame
  | DirectMessageStatusFrame
  | ServerShutdownFrame
  | KeysChangedFrame
  | { type: "pong"; re?: string };
