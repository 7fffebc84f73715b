import type { ErrorCode } from "@warren/protocol";

/**
 * Codes the SDK makes itself, never sent by the server: the server could not be
 * reached, a socket request got no reply in time, or the socket dropped first; for
 * direct messages, a user's keys changed and are not trusted yet (client.direct.trust),
 * or a user has no message device to seal for.
 */
export type ClientErrorCode =
  | "network_error"
  | "timeout"
  | "disconnected"
  | "untrusted_keys"
  | "no_device_keys";

/** An error answer from the server (or the SDK's own codes above), carrying its stable code. */
export class WarrenError extends Error {
  constructor(
    readonly code: ErrorCode | ClientErrorCode,
    message: string,
    /** the HTTP status; for socket errors the status the code travels with over HTTP; 0 for the SDK's own */
    readonly status: number,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "WarrenError";
  }
}
