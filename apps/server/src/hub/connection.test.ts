import { describe, expect, it } from "vitest";
import type { HubConfig } from "../config.js";
import { Connection, type Identity, welcomeOf, welcomeTextOf } from "./connection.js";

const hub = {
  maxMessageBytes: 65_536,
  messageRate: 20,
  messageBurst: 40,
  heartbeatIntervalMs: 25_000,
} as HubConfig;

const identity = (over: Partial<Identity> = {}): Identity => ({
  userId: "01a24b25-2a35-7000-838a-28c43a2ec937",
  username: "alice",
  device: "laptop",
  namedDevice: true,
  session: "01a24b25-2a36-7001-ae7f-29ac468a63a8",
  signinKey: null,
  isAdmin: false,
  protocol: 2,
  ...over,
});

describe("welcome frame", () => {
  it("as text is the frame welcomeOf describes, keys in the same order", () => {
    for (const id of [
      identity(),
      identity({ username: 'quo"te\\back\u0001slash', protocol: 1 }),
      identity({ username: "名前", device: "a.b:c-d_e" }),
    ]) {
      const conn = new Connection("01a24b25-7d25-7000-b2c4-614ac2847b7b", id, undefined as never, 0);
      const text = welcomeTextOf(conn, hub);
      const parsed = JSON.parse(text);
      const expected = welcomeOf(conn, hub);
      expect(Date.parse(parsed.server_time)).toBeGreaterThan(0);
      expect({ ...parsed, server_time: "" }).toEqual({ ...expected, server_time: "" });
      expect(Object.keys(parsed)).toEqual(Object.keys(expected));
      expect(text).toBe(JSON.stringify({ ...expected, server_time: parsed.server_time }));
    }
  });
});
