import type { ErrorCode } from "@warren/protocol";

/** An error answer from the server, carrying its stable code. */
export class WarrenError extends Error {
  constructor(
    readonly code: ErrorCode | "network_error",
    message: string,
    readonly status: number,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "WarrenError";
  }
}
