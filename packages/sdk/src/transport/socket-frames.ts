import {
  currentType,
  isErrorCode,
  OLDEST_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
  type ServerFrame,
  statusOf,
  subprotocolOf,
} from "@warren/protocol";
import { WarrenError } from "../errors.js";
import type { SocketOptions } from "./socket-types.js";

/**
 * The subprotocols offered, newest version first: the hub selects the newest it speaks
 * (docs/protocol.md "Protocol versions"); the token rides along as "bearer.<token>"
 * ("Connecting"). warren.v1 is offered too so that an older server, which knows only
 * that one, still accepts the socket.
 */
export const SUBPROTOCOLS = [subprotocolOf(PROTOCOL_VERSION), subprotocolOf(OLDEST_PROTOCOL_VERSION)];

export const disconnected = (message: string, details?: unknown) =>
  new WarrenError("disconnected", message, 0, details);

/** options.url, or the client's base URL with http→ws and /v1/ws; plus ?device= when given. */
export function socketUrl(baseUrl: string, options: SocketOptions): string {
  const url = new URL(options.url ?? `${baseUrl.replace(/^http/, "ws").replace(/\/+$/, "")}/v1/ws`);
  if (options.device !== undefined) url.searchParams.set("device", options.device);
  return url.toString();
}

/** An error reply as a WarrenError; its status is the one the code travels with over HTTP (a hint). */
export function errorOf(frame: Extract<ServerFrame, { type: "error" }>): WarrenError {
  const status = isErrorCode(frame.code) ? statusOf(frame.code) : 0;
  const details =
    frame.details ??
    (frame.retry_after_ms === undefined ? undefined : { retry_after_ms: frame.retry_after_ms });
  return new WarrenError(frame.code, frame.message, status, details);
}

/** A text message as a frame (under its version-2 name): a JSON object with a string "type", else undefined (ignored). */
export function parseFrame(data: unknown): ServerFrame | undefined {
  if (typeof data !== "string") return undefined;
  try {
    const frame = JSON.parse(data) as unknown;
    const type = (frame as { type?: unknown } | null)?.type;
    if (frame && typeof frame === "object" && typeof type === "string") {
      // A server that speaks only version 1 sends the old names: the same frames here.
      (frame as { type: string }).type = currentType(type);
      return frame as ServerFrame;
    }
  } catch {
    // not JSON: the server sends only JSON text, so there is nothing to do with it
  }
  return undefined;
}
