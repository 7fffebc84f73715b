import type { FastifyServerOptions } from "fastify";
import type { Config } from "../config.js";

/** Query parameters whose values never reach a log line. */
const SECRET_PARAMS = /([?&](?:token|access_token|refresh_token|password|code|secret)=)[^&#]*/gi;

export function redactUrl(url: string): string {
  return url.replace(SECRET_PARAMS, "$1[redacted]");
}

type LoggedRequest = { method: string; url: string; ip?: string; id?: string };

/**
 * pino options for Fastify. Requests are logged as method, path (secrets in the query
 * redacted) and id; the client address only with LOG_CLIENT_IP=true (DESIGN.md
 * principle 7). Headers and bodies are never logged.
 */
export function loggerOptions(
  config: Pick<Config, "logLevel" | "logClientIp">,
): FastifyServerOptions["logger"] {
  return {
    level: config.logLevel,
    redact: {
      paths: [
        "req.headers.authorization",
        "req.headers.cookie",
        "*.password",
        "*.refresh_token",
        "*.access_token",
        "*.token",
        "*.secret",
        "*.signature",
        // Direct messages: sealed copies never reach a log line, not even sealed.
        "*.copies",
        "*.copy",
        "*.ciphertext",
        "*.enc",
      ],
      censor: "[redacted]",
    },
    serializers: {
      req(req: { method: string; url: string; ip?: string; id?: string }): Record<string, unknown> {
        const out: LoggedRequest = { method: req.method, url: redactUrl(req.url), id: req.id };
        if (config.logClientIp && req.ip) out.ip = req.ip;
        return out;
      },
      res(res: { statusCode: number }) {
        return { statusCode: res.statusCode };
      },
    },
  };
}
