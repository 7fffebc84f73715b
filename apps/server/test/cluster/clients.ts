import { expect } from "vitest";
import { connectHub, type HubClient, type Match } from "../helpers/hub-client.js";
import type { Instance } from "./harness.js";

/**
 * Hub sockets for the cluster suites: `ws` clients on a chosen instance, with waits long
 * enough for a frame to cross two processes and Redis on a loaded two-core machine.
 */

/** Longest wait for one frame or reply. */
export const WAIT = 15_000;
/** How long "nothing arrives" is watched. */
export const QUIET = 1_500;

export type { HubClient };

export function hubPool() {
  const open = new Set<HubClient>();
  return {
    /** A socket of `user` on `instance` (as `device` when given), past its welcome and first ping. */
    async connect(instance: Instance, user: { token: string }, device?: string): Promise<HubClient> {
      const c = await connectHub(instance.url, user.token, {
        ...(device ? { device } : {}),
        hello: false,
        timeoutMs: WAIT,
      });
      open.add(c);
      const pong = await c.request({ type: "ping" }, WAIT);
      if (pong.type !== "pong") throw new Error(`expected pong, got ${JSON.stringify(pong)}`);
      return c;
    },
    async close(c: HubClient): Promise<void> {
      open.delete(c);
      await c.close();
    },
    async closeAll(): Promise<void> {
      const list = [...open];
      open.clear();
      await Promise.all(list.map((c) => c.close()));
    },
  };
}

/** Asserts that no frame matching `match` arrives at `c` within `ms`. */
export async function none(c: HubClient, match: Match, ms = QUIET): Promise<void> {
  const got = await c.collect(match, ms);
  expect(got).toEqual([]);
}

/** The first `type` frame from `from`. */
export const fromUser = (type: string, from: string) => (f: any) => f.type === type && f.from === from;

/** A 2xx (or listed) answer's body, failing with the whole answer otherwise. */
export function ok<T = any>(res: { status: number; body: T }, ...expected: number[]): T {
  expect(expected.length ? expected : [200, 201, 204], `${res.status} ${JSON.stringify(res.body)}`).toContain(
    res.status,
  );
  return res.body;
}
