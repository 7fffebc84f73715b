import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from "node:crypto";

/** The secret as a KeyObject, made once: createHmac copies raw key bytes on every call. */
const keys = new WeakMap<Uint8Array, KeyObject>();
function keyOf(secret: Uint8Array): KeyObject {
  let key = keys.get(secret);
  if (!key) {
    key = createSecretKey(secret);
    keys.set(secret, key);
  }
  return key;
}

/** Why a token was refused: `expired` is told apart (token_expired), the rest is `invalid`. */
export class JwtRefused extends Error {
  constructor(readonly reason: "invalid" | "expired") {
    super(`JWT ${reason}`);
    this.name = "JwtRefused";
  }
}

const PART = /^[A-Za-z0-9_-]+$/;
/** An HMAC-SHA-256 (32 bytes) in unpadded base64url. */
const SIGNATURE_CHARS = 43;

/**
 * How far in the future a token's `iat` (and the clock of the instance that signed it)
 * may be: instances' clocks drift a little, but a token "issued" later than that was
 * not issued by a server in step with this one (RFC 7519 §4.1.6 leaves the check to us).
 */
export const CLOCK_SKEW_SECONDS = 60;

function decodeJson(part: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  } catch {
    throw new JwtRefused("invalid");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new JwtRefused("invalid");
  return value as Record<string, unknown>;
}

/**
 * The last header that passed the checks below. They depend on its text alone, and every
 * token this server signs has the same one: it is decoded once, not on every upgrade.
 */
let goodHeader = "";

/**
 * Verifies a compact HS256 JWT (RFC 7515, RFC 7519) and returns its claims: header
 * `alg` exactly HS256 (never "none", never another algorithm), no `crit`, the HMAC
 * compared in constant time, `exp` required and in the future, `nbf` (if any) past,
 * `iat` (if any) a number no more than CLOCK_SKEW_SECONDS ahead of our clock. Synchronous, on node:crypto: jose's WebCrypto verify hops
 * to the thread pool and cost ~170 µs per WebSocket upgrade. Tokens are
 * still signed with jose (tokens.ts); tokens.test.ts checks the two agree.
 */
export function verifyHs256(token: string, secret: Uint8Array, nowSeconds: number): Record<string, unknown> {
  const parts = token.split(".");
  if (parts.length !== 3) throw new JwtRefused("invalid");
  const [header, payload, signature] = parts as [string, string, string];
  if (header !== goodHeader) {
    if (!PART.test(header)) throw new JwtRefused("invalid");
    const head = decodeJson(header);
    if (head.alg !== "HS256" || head.crit !== undefined || head.b64 !== undefined)
      throw new JwtRefused("invalid");
    goodHeader = header;
  }
  // The payload is not checked for its alphabet: the MAC below covers its text as given,
  // so a payload that passes came from a holder of the secret, which writes base64url.
  if (signature.length !== SIGNATURE_CHARS || !PART.test(signature)) throw new JwtRefused("invalid");
  const given = Buffer.from(signature, "base64url");
  const expected = createHmac("sha256", keyOf(secret)).update(`${header}.${payload}`).digest();
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new JwtRefused("invalid");
  const claims = decodeJson(payload);
  const { exp, nbf, iat } = claims;
  if (typeof exp !== "number" || !Number.isFinite(exp)) throw new JwtRefused("invalid");
  if (nbf !== undefined && (typeof nbf !== "number" || nbf > nowSeconds)) throw new JwtRefused("invalid");
  if (iat !== undefined && (typeof iat !== "number" || !Number.isFinite(iat)))
    throw new JwtRefused("invalid");
  if (typeof iat === "number" && iat > nowSeconds + CLOCK_SKEW_SECONDS) throw new JwtRefused("invalid");
  if (exp <= nowSeconds) throw new JwtRefused("expired");
  return claims;
}
