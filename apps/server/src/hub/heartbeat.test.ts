import { describe, expect, it } from "vitest";
import type { Connection } from "./connection.js";
import { startHeartbeat } from "./heartbeat.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("heartbeat", () => {
  it("pings every socket each round, a slice at a time, and gives up on one that missed two", async () => {
    const all = new Set(Array.from({ length: 2500 }, () => ({ missed: 0 }) as Connection));
    const silent = [...all][1234] as Connection;
    const pinged: Connection[] = [];
    const dead: Connection[] = [];
    // Pings made in one go, without a turn of the event loop between them.
    const slices: number[] = [];
    let inSlice = 0;
    const stop = startHeartbeat({
      intervalMs: 40,
      sockets: () => all,
      ping(conn) {
        if (inSlice++ === 0)
          queueMicrotask(() => {
            slices.push(inSlice);
            inSlice = 0;
          });
        pinged.push(conn);
        // Everyone answers but one.
        if (conn !== silent) setImmediate(() => (conn.missed = 0));
      },
      dead(conn) {
        dead.push(conn);
        all.delete(conn);
      },
    });
    try {
      await sleep(60);
      expect(pinged.length).toBe(2500);
      expect(new Set(pinged).size).toBe(2500);
      expect(slices.slice(0, 3)).toEqual([1000, 1000, 500]);
      // Rounds one and two ping it; round three finds two misses.
      await sleep(150);
      expect(dead).toEqual([silent]);
      expect([...all].every((c) => c.missed <= 1)).toBe(true);
    } finally {
      stop();
    }
    await sleep(20);
    const after = pinged.length;
    await sleep(100);
    expect(pinged.length).toBe(after);
  });
});
