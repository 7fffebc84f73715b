import type { ErrorBody } from "@warren/protocol";
import { WarrenError } from "../errors.js";

export interface HttpOptions {
  baseUrl: string;
  fetch?: typeof fetch;
  /** the current access token, if any */
  token?: () => string | undefined;
}

export type Http = <T>(method: string, path: string, body?: unknown) => Promise<T>;

/** JSON over fetch; non-2xx answers become WarrenError with the server's code. */
export function createHttp(options: HttpOptions): Http {
  const doFetch = options.fetch ?? globalThis.fetch;
  const base = options.baseUrl.replace(/\/+$/, "");
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers["content-type"] = "application/json";
    const token = options.token?.();
    if (token) headers.authorization = `Bearer ${token}`;
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new WarrenError("network_error", `Cannot reach ${base}: ${(err as Error).message}`, 0);
    }
    const text = await res.text();
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    if (!res.ok) {
      const error = (parsed as ErrorBody | undefined)?.error;
      throw new WarrenError(
        error?.code ?? "internal_error",
        error?.message ?? res.statusText,
        res.status,
        error?.details,
      );
    }
    return parsed as T;
  };
}
