import type { ErrorCode } from "@warren/protocol";

/**
 * Codes the SDK makes itself, never sent by the server: the server could not be
 * reached, a socket request got no reply in time, or the socket dropped first.
 */
export type ClientErrorCode = "network_error" | "timeout" | "disconnected";

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
