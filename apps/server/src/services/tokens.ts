import { createHash, randomBytes } from "node:crypto";
import { uuidv7 } from "@warren/protocol";
import { SignJWT } from "jose";
import { type Clock, systemClock } from "../clock.js";
import { AppError } from "../errors.js";
import { JwtRefused, verifyHs256 } from "./jwt-hs256.js";

export interface AccessClaims {
  sub: string;
  sid: string;
  jti: string;
  iat: number;
  exp: number;
  typ: "access";
}

/** Short-lived access JWTs, HS256 with the server's secret: signed by jose, verified by jwt-hs256.ts. */
export function createTokenSigner(secret: Uint8Array, ttlMs: number, clock: Clock = systemClock) {
  const ttlSeconds = Math.max(1, Math.round(ttlMs / 1000));
  // Imported once: given raw bytes, jose imports the HMAC key again on every call.
  const key = crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return {
    ttlSeconds,
    async sign(userId: string, sessionId: string): Promise<{ token: string; expiresAt: Date }> {
      const iat = Math.floor(clock.now() / 1000);
      const exp = iat + ttlSeconds;
      const token = await new SignJWT({ sid: sessionId, typ: "access" })
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setSubject(userId)
        .setJti(uuidv7())
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .sign(await key);
      return { token, expiresAt: new Date(exp * 1000) };
    },
    /** Verifies signature, algorithm (HS256 only: never "none"), expiry and claim shapes. */
    async verify(token: string): Promise<AccessClaims> {
      let payload: Record<string, unknown>;
      try {
        payload = verifyHs256(token, secret, Math.floor(clock.now() / 1000));
      } catch (err) {
        if (err instanceof JwtRefused && err.reason === "expired") {
          throw new AppError("token_expired", undefined, { cause: err });
        }
        throw new AppError("invalid_token", undefined, { cause: err });
      }
      if (
        payload.typ !== "access" ||
        typeof payload.sub !== "string" ||
        typeof payload.sid !== "string" ||
        typeof payload.jti !== "string"
      ) {
        throw new AppError("invalid_token");
      }
      return payload as unknown as AccessClaims;
    },
  };
}

export type TokenSigner = ReturnType<typeof createTokenSigner>;

/** Opaque secrets (refresh tokens, recovery codes) are stored only as SHA-256 hashes. */
export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("base64url");
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}
