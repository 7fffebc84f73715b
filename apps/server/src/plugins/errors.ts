import type { ErrorBody, ErrorCode } from "@warren/protocol";
import { ERRORS } from "@warren/protocol";
import type { FastifyError, FastifyInstance } from "fastify";
import { AppError } from "../errors.js";
import { isUnavailable } from "../storage/errors.js";

/** Retry-After of a 503 for a store that does not answer (lock wait, disk full, restart). */
export const RETRY_AFTER_SECONDS = 2;

/** Fastify's own error codes, mapped onto ours. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "payload_too_large",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "unsupported_media_type",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "invalid_request",
  FST_ERR_CTP_EMPTY_JSON_BODY: "invalid_request",
  FST_ERR_CTP_INVALID_JSON_BODY: "invalid_json",
};

interface ValidationIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** "body.username", "querystring.limit": the field a schema failure is about. */
function describeValidation(err: FastifyError): { message: string; field: string } {
  const issue = (err.validation?.[0] ?? {}) as ValidationIssue;
  const context = err.validationContext ?? "body";
  const path = (issue.instancePath ?? "").split("/").filter(Boolean);
  if (issue.keyword === "required" && typeof issue.params?.missingProperty === "string") {
    path.push(issue.params.missingProperty);
  }
  const field = path.join(".");
  const where = field ? `${context}.${field}` : context;
  return { message: `${where} ${issue.message ?? "is invalid"}`, field: where };
}

function body(code: ErrorCode, message: string, details?: unknown): ErrorBody {
  return details === undefined ? { error: { code, message } } : { error: { code, message, details } };
}

/** Every non-2xx answer has the shape {"error":{"code","message"}}. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(body("not_found", `No route for ${request.method} ${request.url.split("?")[0]}`));
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof AppError) {
      reply.headers(error.headers);
      return reply.code(error.status).send(body(error.code, error.message, error.details));
    }
    if (error.validation) {
      const { message, field } = describeValidation(error);
      return reply.code(400).send(body("invalid_request", message, { field }));
    }
    const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
    if (mapped) {
      const message = mapped === "invalid_request" ? error.message : ERRORS[mapped].message;
      return reply.code(ERRORS[mapped].status).send(body(mapped, message));
    }
    if (isUnavailable(error)) {
      request.log.warn({ err: error }, "database unavailable");
      // A held lock, a full disk, a restarting database: worth trying again shortly.
      reply.header("retry-after", String(RETRY_AFTER_SECONDS));
      return reply.code(503).send(body("service_unavailable", ERRORS.service_unavailable.message));
    }
    if (typeof error.statusCode === "number" && error.statusCode >= 400 && error.statusCode < 500) {
      // Other client errors Fastify raises (bad headers, aborted bodies): one code, one status.
      return reply.code(400).send(body("invalid_request", error.message));
    }
    request.log.error({ err: error }, "unhandled error");
    return reply.code(500).send(body("internal_error", ERRORS.internal_error.message));
  });
}
