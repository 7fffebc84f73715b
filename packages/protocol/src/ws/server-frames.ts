import type { ErrorCode } from "../errors.js";

/** Frames the server sends. Shapes are documented with examples in docs/protocol.md. */

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
  protocol_version: number;
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
  | { type: "peer_joined"; room: string; user: string; username: string }
  | { type: "peer_left"; room: string; user: string; reason: "left" | "disconnected" | "kicked" }
  | { type: "kicked"; room: string; by: string; until: string }
  | { type: "room.renamed"; room: string; name: string }
  | { type: "room.deleted"; room: string; reason: "deleted" | "owner_left" | "expired" }
  | { type: "broadcast"; room: string; from: string; from_device: string; payload: unknown };

export interface ServerShutdownFrame {
  type: "server_shutdown";
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
  | ServerShutdownFrame
  | { type: "pong"; re?: string };
