import { describe, expect, it } from "vitest";
import { newCode } from "./invites.js";

describe("invite codes", () => {
  it("are 24 base64url characters that never start with a dash (it would read as a CLI option)", () => {
    const codes = Array.from({ length: 5000 }, newCode);
    for (const code of codes) expect(code).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{23}$/);
    expect(new Set(codes).size).toBe(codes.length);
  });
});
