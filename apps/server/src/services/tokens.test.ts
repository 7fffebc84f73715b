import { createHmac, randomBytes } from "node:crypto";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { AppError } from "../errors.js";
import { createTokenSigner } from "./tokens.js";

const secret = randomBytes(32);
const signer = createTokenSigner(secret, 60_000);
const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** A token put together by hand, signed with `key` (the server's secret unless told). */
function handmade(header: unknown, claims: unknown, key: Uint8Array = secret): string {
  const body = `${b64(header)}.${b64(claims)}`;
  return `${body}.${createHmac("sha256", key).update(body).digest("base64url")}`;
}

const claims = (extra: Record<string, unknown> = {}) => ({
  sub: "u1",
  sid: "s1",
  jti: "j1",
  typ: "access",
  iat: now(),
  // An hour: the refusal table's tokens are made when the file loads, and must refuse
  // for the reason they name, not for having expired before their test ran.
  exp: now() + 3600,
  ...extra,
});

async function refusal(token: string): Promise<string> {
  try {
    await signer.verify(token);
  } catch (err) {
    if (err instanceof AppError) return err.code;
    throw err;
  }
  return "accepted";
}

describe("access tokens", () => {
  it("verifies what it signs, with the claims it put in", async () => {
    const { token } = await signer.sign("user-1", "session-1");
    const got = await signer.verify(token);
    expect(got).toMatchObject({ sub: "user-1", sid: "session-1", typ: "access" });
    expect(got.exp - got.iat).toBe(60);
  });

  it("verifies a token jose signed the same way, and one made by hand", async () => {
    const token = await new SignJWT({ sid: "s2", typ: "access" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("u2")
      .setJti("j2")
      .setIssuedAt()
      .setExpirationTime("1m")
      .sign(secret);
    expect((await signer.verify(token)).sub).toBe("u2");
    expect((await signer.verify(handmade({ alg: "HS256", typ: "JWT" }, claims()))).sid).toBe("s1");
  });

  it("tells an expired token apart from a bad one", async () => {
    expect(await refusal(handmade({ alg: "HS256" }, claims({ exp: now() - 1 })))).toBe("token_expired");
    expect(await refusal(handmade({ alg: "HS256" }, claims({ exp: now() })))).toBe("token_expired");
  });

  it.each([
    ["alg none, no signature", `${b64({ alg: "none" })}.${b64(claims())}.`],
    ["alg none, signed anyway", handmade({ alg: "none" }, claims())],
    ["another algorithm", handmade({ alg: "HS512" }, claims())],
    ["no alg", handmade({ typ: "JWT" }, claims())],
    ["a critical header", handmade({ alg: "HS256", crit: ["exp"], exp: 1 }, claims())],
    ["an unencoded payload header", handmade({ alg: "HS256", b64: false }, claims())],
    ["another secret", handmade({ alg: "HS256" }, claims(), randomBytes(32))],
    ["no exp", handmade({ alg: "HS256" }, claims({ exp: undefined }))],
    ["exp as text", handmade({ alg: "HS256" }, claims({ exp: String(now() + 60) }))],
    // Made when the test runs, not when the file loads: a loaded machine can take a
    // minute between the two, and these sit close to the moment they are checked at.
    ["not valid yet", () => handmade({ alg: "HS256" }, claims({ nbf: now() + 30 }))],
    ["iat as text", handmade({ alg: "HS256" }, claims({ iat: "yesterday" }))],
    [
      "iat beyond the clock skew",
      () => handmade({ alg: "HS256" }, claims({ iat: now() + 61, exp: now() + 3600 })),
    ],
    [
      "iat far in the future",
      handmade({ alg: "HS256" }, claims({ iat: now() + 86_400, exp: now() + 90_000 })),
    ],
    ["a refresh type", handmade({ alg: "HS256" }, claims({ typ: "refresh" }))],
    ["no session", handmade({ alg: "HS256" }, claims({ sid: undefined }))],
    ["a numeric subject", handmade({ alg: "HS256" }, claims({ sub: 7 }))],
    ["claims as an array", handmade({ alg: "HS256" }, [claims()])],
    ["a header that is not JSON", `${Buffer.from("{alg").toString("base64url")}.${b64(claims())}.AAAA`],
    ["two parts", `${b64({ alg: "HS256" })}.${b64(claims())}`],
    ["four parts", `${handmade({ alg: "HS256" }, claims())}.x`],
    ["padding", `${handmade({ alg: "HS256" }, claims())}=`],
    ["characters outside base64url", handmade({ alg: "HS256" }, claims()).replace(".", ".+")],
    ["an empty string", ""],
  ])("refuses %s as invalid_token", async (_name, token) => {
    expect(await refusal(typeof token === "function" ? token() : token)).toBe("invalid_token");
  });

  it("accepts an iat up to 60 s ahead (clocks of instances drift a little)", async () => {
    const ahead = handmade({ alg: "HS256" }, claims({ iat: now() + 55, exp: now() + 120 }));
    expect(await refusal(ahead)).toBe("accepted");
  });

  it("refuses a token whose payload was changed after signing", async () => {
    const { token } = await signer.sign("user-1", "session-1");
    const [header, , signature] = token.split(".");
    const forged = `${header}.${b64(claims({ sub: "admin" }))}.${signature}`;
    expect(await refusal(forged)).toBe("invalid_token");
    const flipped = `${token.slice(0, -2)}${token.endsWith("A") ? "B" : "A"}${token.slice(-1)}`;
    expect(await refusal(flipped)).toBe("invalid_token");
  });
});
