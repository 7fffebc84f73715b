import { describe, expect, it } from "vitest";
import { mayContact, mayInRoom, mayRunCommand } from "./policy.js";

describe("policy", () => {
  it("gives room management to the owner only", () => {
    for (const action of ["rename", "kick", "delete"] as const) {
      expect(mayInRoom("owner", action)).toBe(true);
      expect(mayInRoom("member", action)).toBe(false);
      expect(mayInRoom("outsider", action)).toBe(false);
    }
    expect(mayInRoom("member", "broadcast")).toBe(true);
    expect(mayInRoom("outsider", "broadcast")).toBe(false);
  });

  it("allows contact within a user or a shared room only", () => {
    expect(mayContact({ sameUser: true, shareRoom: false })).toBe(true);
    expect(mayContact({ sameUser: false, shareRoom: true })).toBe(true);
    expect(mayContact({ sameUser: false, shareRoom: false })).toBe(false);
  });

  it("keeps admin commands to admins", () => {
    expect(mayRunCommand({ admin: true }, { isAdmin: false })).toBe(false);
    expect(mayRunCommand({ admin: true }, { isAdmin: true })).toBe(true);
    expect(mayRunCommand({ admin: false }, { isAdmin: false })).toBe(true);
  });
});
