import { describe, expect, it } from "vitest";
import { jwtExpiresAt } from "./jwt.js";

const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("jwtExpiresAt", () => {
  it("reads exp (seconds) from a base64url payload as milliseconds", () => {
    // "ü" makes the payload's base64url use - or _, and checks UTF-8 decoding.
    const token = `${part({ alg: "HS256" })}.${part({ sub: "ü~~?>", exp: 1_900_000_000 })}.sig`;
    expect(jwtExpiresAt(token)).toBe(1_900_000_000_000);
  });

  it("is undefined for tokens that are not JWTs or carry no exp", () => {
    expect(jwtExpiresAt("opaque")).toBeUndefined();
    expect(jwtExpiresAt("a.!!!.c")).toBeUndefined();
    expect(jwtExpiresAt(`x.${part({ sub: "1" })}.y`)).toBeUndefined();
  });
});
