import {
  CLOSE,
  ClientFrames,
  type ClientFrameType,
  ERRORS,
  isRelayFrame,
  RELAY_TYPES,
  type RelayType,
} from "@warren/protocol";
import { Compile, type Validator } from "typebox/compile";
import { type RawData, WebSocket } from "ws";
import { AppError } from "../errors.js";
import { JSON_REFUSAL_MESSAGES, refuseJson, textMayBeRefused } from "../json-guard.js";
import { isPromise, type Maybe } from "../maybe.js";
import type { Metrics } from "../observability/metrics.js";
import type { RateBuckets, TakeResult } from "../state/rate-buckets.js";
import { isUnavailable } from "../storage/errors.js";
import type { Connection } from "./connection.js";
import type { HandlerResult, Handlers } from "./handlers/index.js";
import type { Outbox } from "./outbox.js";

const VALIDATORS = new Map<string, Validator>(
  Object.entries(ClientFrames).map(([type, schema]) => [type, Compile(schema) as unknown as Validator]),
);

interface FrameKind {
  validator: Validator;
  /**
   * True for a frame the validator accepts, found cheaper (the relay frames); false
   * leaves it to the validator, which has the last word.
   */
  quick: (frame: object) => boolean;
  handler: (conn: Connection, frame: unknown, text: string) => Maybe<HandlerResult>;
}

/** A store that does not answer (lock wait, Redis away) is worth asking again this soon. */
const RETRY_AFTER_MS = 2000;

/** Which store is away, in words a client can act on. */
function unavailableMessage(err: unknown): string {
  return (err as { name?: string }).name === "BusUnavailableError"
    ? "The recipient is on another server instance, which cannot be reached right now; try again shortly"
    : "A store the server needs does not answer; try again shortly";
}

/** "to must be string" → names the field, like the REST errors do. */
function describe(validator: Validator, frame: unknown): string {
  const first = validator.Errors(frame)[0] as
    | { instancePath?: string; message?: string; params?: { requiredProperties?: string[] } }
    | undefined;
  if (!first) return "The frame is not valid";
  const path = (first.instancePath ?? "").split("/").filter(Boolean).join(".");
  const missing = first.params?.requiredProperties?.[0];
  if (missing) return `${path ? `${path}.` : ""}${missing} is required`;
  return `${path || "frame"} ${first.message ?? "is not valid"}`;
}

export interface DispatchOptions {
  handlers: Handlers;
  buckets: RateBuckets;
  outbox: Outbox;
  metrics: Metrics;
  /** MESSAGE_RATE_LIMIT: ten times this, kept up for ten seconds, closes the socket */
  messageRate: number;
  /** MAX_JSON_DEPTH: deeper frames answer json_too_deep */
  maxJsonDepth: number;
  log: { warn(obj: object, msg: string): void };
  onValid(conn: Connection): void;
  /** a valid frame of `type` is about to be handled (stats, analytics counts) */
  onProcessed(type: string): void;
}

/**
 * Every text frame goes through here: parse, rate limit, validate against the
 * protocol's schema, then the handler. Each failure is an error frame and the socket
 * stays; only binary frames (1003) and sustained abuse (1008) close it.
 */
export function createDispatch(o: DispatchOptions) {
  const abuseLimit = o.messageRate * 10 * 10;
  /** Each frame type's validator and handler: one lookup per frame. */
  const kinds = new Map<string, FrameKind>(
    [...VALIDATORS].map(([type, validator]) => [
      type,
      {
        validator,
        quick: RELAY_TYPES.includes(type as RelayType)
          ? (frame: object) => isRelayFrame(frame, type as RelayType)
          : () => false,
        handler: o.handlers[type as ClientFrameType] as FrameKind["handler"],
      },
    ]),
  );

  /** Counts frames per second over the last ten seconds; true when the sum is abusive. */
  const abusive = (conn: Connection): boolean => {
    const second = Math.floor(performance.now() / 1000);
    if (!conn.abuse) {
      conn.abuse = new Uint32Array(10);
      conn.abuseSecond = second;
    }
    const ring = conn.abuse;
    for (let s = conn.abuseSecond + 1; s <= second && s <= conn.abuseSecond + 10; s++) ring[s % 10] = 0;
    conn.abuseSecond = second;
    ring[second % 10] = (ring[second % 10] ?? 0) + 1;
    let sum = 0;
    for (const n of ring) sum += n;
    return sum > abuseLimit;
  };

  /** A handler's refusal becomes the error frame; anything else is logged as internal. */
  const fail = (conn: Connection, re: string | undefined, type: string, err: unknown): void => {
    if (err instanceof AppError) {
      // A wait (rate limits) travels as retry_after_ms, like the bucket's own refusals.
      const details = err.details as { retry_after_ms?: number } | undefined;
      const extra =
        typeof details?.retry_after_ms === "number"
          ? { retry_after_ms: details.retry_after_ms }
          : details === undefined
            ? {}
            : { details };
      o.outbox.error(conn, re, err.code, err.message, extra);
      return;
    }
    if (isUnavailable(err)) {
      o.outbox.error(conn, re, "service_unavailable", unavailableMessage(err), {
        retry_after_ms: RETRY_AFTER_MS,
      });
      return;
    }
    o.log.warn({ err, type }, "frame handler failed");
    o.outbox.error(conn, re, "internal_error");
  };

  /**
   * Frames whose detached answer is the same promise (a relay batch waiting for Redis)
   * wait on it together: one reaction for the batch, a socket and an id per frame.
   */
  let lastDetached: Promise<HandlerResult> | undefined;
  let detachedWaiters: (Connection | string | undefined)[] = [];
  const detach = (conn: Connection, id: string | undefined, later: Promise<HandlerResult>): void => {
    if (later !== lastDetached) {
      lastDetached = later;
      const waiters: (Connection | string | undefined)[] = [];
      detachedWaiters = waiters;
      later.then(
        (result) => {
          for (let i = 0; i < waiters.length; i += 2)
            answer(waiters[i] as Connection, waiters[i + 1] as string | undefined, result);
        },
        (err) => {
          for (let i = 0; i < waiters.length; i += 2)
            fail(waiters[i] as Connection, waiters[i + 1] as string | undefined, "detached", err);
        },
      );
    }
    detachedWaiters.push(conn, id);
  };

  const answer = (conn: Connection, id: string | undefined, out: HandlerResult): void => {
    if (!out) return;
    if ("detached" in out) {
      detach(conn, id, out.detached);
      return;
    }
    const re = id === undefined ? {} : { re: id };
    if ("frame" in out) o.outbox.frame(conn, { ...out.frame, ...re });
    else o.outbox.frame(conn, { type: "result", ...re, result: out.result });
  };

  /** After the rate limit: validate, then run the handler (at once, or later if it waits). */
  const handle = (
    conn: Connection,
    take: TakeResult,
    frame: { type?: unknown; id?: unknown } | null,
    text: string,
    parsed: boolean,
    re: string | undefined,
  ): Maybe<void> => {
    if (!take.ok) {
      o.metrics.rateLimited.inc();
      if (abusive(conn)) {
        o.metrics.closed("abuse");
        conn.ws.close(CLOSE.policy_violation, "sending far over the rate limit");
        return;
      }
      o.outbox.error(conn, re, "rate_limited", ERRORS.rate_limited.message, {
        retry_after_ms: take.retryAfterMs,
      });
      return;
    }
    if (conn.abuse) abusive(conn);
    if (!parsed) {
      o.outbox.error(conn, undefined, "invalid_json", "The frame is not valid JSON");
      return;
    }
    const refused = textMayBeRefused(text, o.maxJsonDepth) ? refuseJson(frame, o.maxJsonDepth) : undefined;
    if (refused) {
      o.outbox.error(conn, re, refused, JSON_REFUSAL_MESSAGES[refused](o.maxJsonDepth));
      return;
    }
    if (frame === null || typeof frame !== "object" || Array.isArray(frame)) {
      o.outbox.error(conn, undefined, "invalid_request", "A frame is a JSON object with a type");
      return;
    }
    const type = frame.type;
    if (typeof type !== "string") {
      o.outbox.error(conn, re, "invalid_request", "type is required and must be a string");
      return;
    }
    const kind = kinds.get(type);
    if (!kind) {
      o.outbox.error(conn, re, "unknown_type", `Unknown frame type ${JSON.stringify(type).slice(0, 80)}`);
      return;
    }
    if (!kind.quick(frame) && !kind.validator.Check(frame)) {
      o.outbox.error(conn, re, "invalid_request", describe(kind.validator, frame));
      return;
    }
    if (!conn.valid) o.onValid(conn);
    o.metrics.received(type);
    o.onProcessed(type);
    let out: Maybe<HandlerResult>;
    try {
      out = kind.handler(conn, frame, text);
    } catch (err) {
      fail(conn, re, type, err);
      return;
    }
    if (!isPromise(out)) return answer(conn, re, out);
    return out.then(
      (result) => answer(conn, re, result),
      (err) => fail(conn, re, type, err),
    );
  };

  /**
   * Handles one frame. Returns nothing when it is done at once (the common case on one
   * instance), or a promise, which never rejects, when a store or handler had to wait.
   */
  return function dispatch(conn: Connection, data: RawData, isBinary: boolean): Maybe<void> {
    // Frames still arriving after the server began closing this socket are dropped: they
    // would act after the close, and count the close again in metrics.
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    if (isBinary) {
      o.metrics.closed("binary");
      conn.ws.close(CLOSE.unsupported_data, "binary frames are not accepted: send JSON text");
      return;
    }
    conn.missed = 0;
    let frame: { type?: unknown; id?: unknown } | null = null;
    let parsed = true;
    const text = data.toString();
    try {
      frame = JSON.parse(text);
    } catch {
      parsed = false;
    }
    const re =
      frame !== null && typeof frame === "object" && typeof frame.id === "string" ? frame.id : undefined;
    // Malformed frames cost a token too: otherwise they would be an unlimited way to
    // make the server parse and answer, and never count as abuse.
    const taken = o.buckets.take(conn.identity.userId);
    if (!isPromise(taken)) return handle(conn, taken, frame, text, parsed, re);
    return taken.then(
      (take) => handle(conn, take, frame, text, parsed, re),
      (err) => fail(conn, re, "rate_limit", err),
    );
  };
}
