import { ERRORS, type ErrorCode } from "@warren/protocol";

/**
 * An error meant for the client: a stable code from the protocol's table, a readable
 * message, and optional details and headers. Anything else thrown is a 500 (or a 503
 * when the database is unreachable) and its text never reaches the client.
 */
export class AppError extends Error {
  readonly status: number;
  readonly details: unknown;
  readonly headers: Record<string, string>;

  constructor(
    readonly code: ErrorCode,
    message?: string,
    options: { cause?: unknown; details?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message ?? ERRORS[code].message, { cause: options.cause });
    this.name = "AppError";
    this.status = ERRORS[code].status;
    this.details = options.details;
    this.headers = options.headers ?? {};
  }
}
