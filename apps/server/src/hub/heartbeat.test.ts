import { describe, expect, it } from "vitest";
import type { Connection } from "./connection.js";
import { startHeartbeat } from "./heartbeat.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `done` holds; a loaded machine may fire the 40 ms interval late. */
async function waitFor(done: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(5);
  }
}

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
      await waitFor(() => pinged.length >= 2500, "the first round");
      // The first round pings each socket once (a late check may see round two begin).
      expect(new Set(pinged.slice(0, 2500)).size).toBe(2500);
      expect(slices.slice(0, 3)).toEqual([64, 64, 64]);
      expect(slices.slice(0, 40).reduce((a, b) => a + b, 0)).toBe(2500);
      // Rounds one and two ping it; round three finds two misses.
      await waitFor(() => dead.length > 0, "the silent socket given up");
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
