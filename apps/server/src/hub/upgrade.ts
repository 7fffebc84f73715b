import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import {
  ERRORS,
  type ErrorCode,
  OLDEST_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
  subprotocolOf,
  uuidv7,
} from "@warren/protocol";
import type { Redis } from "ioredis";
import proxyAddr from "proxy-addr";
import { RateLimiterMemory, RateLimiterRedis } from "rate-limiter-flexible";
import { AppError } from "../errors.js";
import type { Metrics } from "../observability/metrics.js";
import { adminSet, isServerAdmin } from "../policy/policy.js";
import type { Services } from "../services/index.js";
import type { Identity } from "./connection.js";

export const WS_PATHS = new Set(["/v1/ws", "/ws"]);
/** The versions the hub speaks, newest first. */
const VERSIONS = Array.from(
  { length: PROTOCOL_VERSION - OLDEST_PROTOCOL_VERSION + 1 },
  (_, i) => PROTOCOL_VERSION - i,
);

const DEVICE = /^[A-Za-z0-9_.:-]{1,64}$/;
const BEARER = /^Bearer\s+/i;

export interface UpgradeOptions {
  services: Pick<Services, "sessions">;
  /** the Redis client when REDIS_URL is set: the upgrade limit holds across instances */
  redis?: Redis;
  /** REDIS_KEY_PREFIX, for the shared upgrade limiter */
  keyPrefix: string;
  allowedOrigins: string[];
  trustProxy: boolean | number | string[];
  upgradesPerMinute: number;
  /** upgrades from one address still being checked at once */
  maxPendingPerAddress: number;
  adminUsers: string[];
  metrics: Metrics;
}

/**
 * The access token: Authorization header, then the `bearer.<token>` subprotocol (browsers),
 * then ?token= (kept for compatibility with older clients; URLs end up in proxy logs, so it
 * comes last).
 */
export function tokenOf(req: IncomingMessage, query: URLSearchParams | undefined): string | undefined {
  const auth = req.headers.authorization;
  if (auth) {
    // Only the scheme is matched by a pattern: one run over a 300-character token cost
    // more than the rest of this function. What follows is the token, spaces around it
    // dropped; a token with spaces inside fails its own check (invalid_token).
    const scheme = BEARER.exec(auth);
    return scheme ? auth.slice(scheme[0].length).trimEnd() : "";
  }
  const protocols = req.headers["sec-websocket-protocol"];
  if (protocols) {
    for (const p of protocols.split(",")) {
      const v = p.trim();
      if (v.startsWith("bearer.")) return v.slice("bearer.".length);
    }
  }
  return query?.get("token") ?? undefined;
}

/** The query of a request target, if it has one: most upgrades have none, and need no URL. */
function queryOf(target: string | undefined): URLSearchParams | undefined {
  const at = target?.indexOf("?") ?? -1;
  return target === undefined || at < 0 ? undefined : new URLSearchParams(target.slice(at + 1));
}

/**
 * The upgrading socket's error listener until ws has its own. Defined at module level,
 * not as an arrow inside the upgrade handler: such an arrow keeps the handler's scope
 * (the request with its headers and token, and `head`) alive for as long as the socket:
 * about 3 KiB per connection.
 */
export const ignoreSocketError = (): void => {};

/**
 * net.Socket's idle-timer slot (Node's internal `timeout` symbol), found on the first
 * upgraded socket; null when this Node keeps no such slot.
 */
let timerSlot: symbol | null | undefined;

/**
 * What the HTTP server and the upgrade left on a socket that is now a WebSocket's,
 * dropped: about 320 bytes per idle connection (heap snapshots). The HTTP idle timeout (HTTP_IDLE_TIMEOUT) armed a timer when
 * the connection came, which ws cleared when it took the socket; the cleared timer and
 * its callback stay referenced until the socket goes. The peer address the upgrade check
 * read is cached on the socket too; reading it again asks the kernel, as the first time.
 */
export function releaseHttpLeftovers(socket: Duplex): void {
  // ws listens for the socket's errors now: one listener, not an array of two.
  socket.removeListener("error", ignoreSocketError);
  const s = socket as unknown as Record<string | symbol, unknown>;
  if (timerSlot === undefined)
    timerSlot = Object.getOwnPropertySymbols(socket).find((k) => k.description === "timeout") ?? null;
  // Node sets the slot to null itself when a socket has no timer; -1 marks a cleared one.
  if (timerSlot !== null && (s[timerSlot] as { _idleTimeout?: number } | null)?._idleTimeout === -1)
    s[timerSlot] = null;
  if (s._peername !== undefined) s._peername = undefined;
}

/**
 * The protocol version a socket speaks: the newest `warren.v<n>` among the subprotocols
 * its client offered (the one the handshake answers with), else 1. A version is asked for
 * in the handshake, not in the URL: the server's answer confirms it before any frame, a
 * browser sets it where it already puts its token, and an older server answers with the
 * newest it knows instead of ignoring it.
 */
export function protocolVersionOf(offered: Iterable<string>): number {
  const names = new Set(offered);
  return VERSIONS.find((v) => names.has(subprotocolOf(v))) ?? OLDEST_PROTOCOL_VERSION;
}

/**
 * The versions' subprotocol names, made once: ws keeps the one it answers with on every
 * socket, and a name built per handshake is a string (32 bytes) per idle connection.
 */
const SUBPROTOCOLS = VERSIONS.map(subprotocolOf);

/** The subprotocol the handshake answers with: the newest version offered (warren.v2, warren.v1), or none. */
export function selectSubprotocol(offered: Set<string>): string | false {
  return SUBPROTOCOLS.find((name) => offered.has(name)) ?? false;
}

/** The subprotocols in a request's Sec-WebSocket-Protocol header. */
const offeredOf = (req: IncomingMessage): string[] =>
  (req.headers["sec-websocket-protocol"] ?? "").split(",").map((p) => p.trim());

/** Answers an upgrade request with a plain HTTP error in the REST error shape, then closes. */
export function refuse(
  socket: Duplex,
  code: ErrorCode,
  message: string = ERRORS[code].message,
  headers: Record<string, string> = {},
) {
  const status = ERRORS[code].status;
  const body = JSON.stringify({ error: { code, message } });
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  socket.end(
    `HTTP/1.1 ${status} ${code}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}connection: close\r\n\r\n${body}`,
  );
}

/**
 * Everything decided before the WebSocket handshake: path, origin, per-address upgrade
 * limit, and the access token (401 before the upgrade, never after).
 */
export function createUpgradeCheck(o: UpgradeOptions) {
  const base = {
    keyPrefix: `${o.keyPrefix}upgrade`,
    points: o.upgradesPerMinute,
    duration: 60,
  };
  // With Redis the limit holds across instances (there are no sticky sessions, so one
  // address's upgrades land anywhere); if Redis is away, each process counts alone.
  const limiter = o.redis
    ? new RateLimiterRedis({
        ...base,
        storeClient: o.redis,
        insuranceLimiter: new RateLimiterMemory(base),
      })
    : new RateLimiterMemory(base);
  const trust =
    o.trustProxy === true
      ? () => true
      : o.trustProxy === false
        ? () => false
        : typeof o.trustProxy === "number"
          ? (_: string, i: number) => i < (o.trustProxy as number)
          : proxyAddr.compile(o.trustProxy);
  const allowed = new Set(o.allowedOrigins);
  const admins = adminSet(o.adminUsers);
  /** upgrades per address between the request and the end of the token check */
  const pending = new Map<string, number>();

  // No proxy trusted: the client is the socket's peer, whatever X-Forwarded-For says.
  const addressOf =
    o.trustProxy === false
      ? (req: IncomingMessage) => req.socket.remoteAddress ?? ""
      : (req: IncomingMessage) => proxyAddr(req, trust);

  return async function check(req: IncomingMessage, socket: Duplex): Promise<Identity | undefined> {
    const address = addressOf(req);
    const inFlight = pending.get(address) ?? 0;
    if (inFlight >= o.maxPendingPerAddress) {
      o.metrics.upgradeRejected("too_many_pending");
      refuse(socket, "too_many_connections", "Too many connections from this address are still signing in", {
        "retry-after": "1",
      });
      return undefined;
    }
    pending.set(address, inFlight + 1);
    try {
      return await checkOne(req, socket, address);
    } finally {
      const left = (pending.get(address) ?? 1) - 1;
      if (left > 0) pending.set(address, left);
      else pending.delete(address);
    }
  };

  async function checkOne(
    req: IncomingMessage,
    socket: Duplex,
    address: string,
  ): Promise<Identity | undefined> {
    const query = queryOf(req.url);
    const origin = req.headers.origin;
    if (origin && allowed.size > 0 && !allowed.has(origin) && !allowed.has("*")) {
      o.metrics.upgradeRejected("forbidden_origin");
      refuse(socket, "forbidden", "This origin may not open a WebSocket here");
      return undefined;
    }
    try {
      await limiter.consume(address);
    } catch {
      o.metrics.upgradeRejected("rate_limited");
      refuse(socket, "rate_limited", "Too many connections from this address; try again in a minute", {
        "retry-after": "60",
      });
      return undefined;
    }
    const token = tokenOf(req, query);
    if (token === undefined) {
      o.metrics.upgradeRejected("unauthorized");
      refuse(socket, "unauthorized");
      return undefined;
    }
    let who: Awaited<ReturnType<UpgradeOptions["services"]["sessions"]["identify"]>>;
    try {
      who = await o.services.sessions.identify(token);
    } catch (err) {
      o.metrics.upgradeRejected("unauthorized");
      if (err instanceof AppError) refuse(socket, err.code, err.message);
      else refuse(socket, "service_unavailable");
      return undefined;
    }
    const device = query?.get("device") ?? (req.headers["x-warren-device"] as string | undefined);
    if (device !== undefined && !DEVICE.test(device)) {
      o.metrics.upgradeRejected("bad_request");
      refuse(socket, "invalid_request", "device must be 1-64 of [A-Za-z0-9_.:-]");
      return undefined;
    }
    const { principal, user, signinKey } = who;
    return {
      userId: user.id,
      username: user.username,
      device: device ?? uuidv7(),
      namedDevice: device !== undefined,
      session: principal.sessionId,
      signinKey,
      isAdmin: isServerAdmin(user, admins),
      protocol: protocolVersionOf(offeredOf(req)),
    };
  }
}
