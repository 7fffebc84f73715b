import type { ErrorBody } from "@warren/protocol";
import { WarrenError } from "../errors.js";

export interface HttpOptions {
  baseUrl: string;
  fetch?: typeof fetch;
  /** the current access token, if any */
  token?: () => string | undefined;
}

/**
 * One REST call. JSON answers come back parsed; any other answer (the text/plain
 * wg-quick config) comes back as its text; 204 as undefined.
 */
export type Http = <T>(method: string, path: string, body?: unknown) => Promise<T>;

const isJson = (contentType: string | null) => !contentType || /[/+]json\b/i.test(contentType);

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
    let text: string;
    try {
      res = await doFetch(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      text = await res.text();
    } catch (err) {
      throw new WarrenError(
        "network_error",
        `Cannot reach ${base}: ${(err as Error).message}`,
        0,
        undefined,
        {
          cause: err,
        },
      );
    }
    const json = isJson(res.headers.get("content-type"));
    let parsed: unknown = text || undefined;
    if (text && json) {
      try {
        parsed = JSON.parse(text);
      } catch {
        // A proxy's HTML error page sent as JSON: keep the text for the message below.
        if (res.ok)
          throw new WarrenError("internal_error", "The server's answer is not valid JSON", res.status);
      }
    }
    if (!res.ok) {
      const error = (parsed as ErrorBody | undefined)?.error;
      throw new WarrenError(
        error?.code ?? "internal_error",
        error?.message ?? (res.statusText || `HTTP ${res.status}`),
        res.status,
        error?.details,
      );
    }
    return parsed as T;
  };
}
