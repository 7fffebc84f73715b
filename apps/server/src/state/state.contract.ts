import { afterEach, describe, expect, it } from "vitest";
import type { SharedState } from "./index.js";

export interface StateOptions {
  messageRate: number;
  messageBurst: number;
  instanceId: string;
}

/** A fresh, empty state and how to remove it again. */
export type OpenState = (options: StateOptions) => Promise<{ state: SharedState; drop(): Promise<void> }>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sorted = (values: Iterable<string>) => [...values].sort();

/** What every SharedState backend must do, seen from one instance; run in state.test.ts. */
export function stateContract(name: string, open: OpenState) {
  describe(`state contract: ${name}`, () => {
    const drops: (() => Promise<void>)[] = [];
    afterEach(async () => {
      await Promise.all(drops.splice(0).map((drop) => drop()));
    });
    const fresh = async (over: Partial<StateOptions> = {}) => {
      const made = await open({ messageRate: 10, messageBurst: 5, instanceId: "i1", ...over });
      drops.push(made.drop);
      return made.state;
    };

    describe("rooms", () => {
      it("adds a member once and refuses a full room", async () => {
        const { rooms } = await fresh();
        expect(await rooms.add("r", "a", 2)).toBe("added");
        expect(await rooms.add("r", "a", 2)).toBe("already");
        expect(await rooms.add("r", "b", 2)).toBe("added");
        expect(await rooms.add("r", "c", 2)).toBe("full");
        expect(await rooms.add("r", "a", 2)).toBe("already");
        expect(sorted(await rooms.members("r"))).toEqual(["a", "b"]);
        expect(await rooms.isMember("r", "a")).toBe(true);
        expect(await rooms.isMember("r", "c")).toBe(false);
        expect(await rooms.members("none")).toEqual([]);
      });

      it("never overfills a room under concurrent adds", async () => {
        const { rooms } = await fresh();
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => rooms.add("r", `u${i}`, 5)));
        expect(results.filter((r) => r === "added")).toHaveLength(5);
        expect(results.filter((r) => r === "full")).toHaveLength(15);
        expect(await rooms.members("r")).toHaveLength(5);
      });

      it("lists a user's rooms and removes a member from both sides", async () => {
        const { rooms } = await fresh();
        await rooms.add("r1", "a", 10);
        await rooms.add("r2", "a", 10);
        expect(sorted(await rooms.roomsOf("a"))).toEqual(["r1", "r2"]);
        expect(await rooms.remove("r1", "a")).toBe(true);
        expect(await rooms.remove("r1", "a")).toBe(false);
        expect(await rooms.remove("nowhere", "a")).toBe(false);
        expect(await rooms.isMember("r1", "a")).toBe(false);
        expect(await rooms.roomsOf("a")).toEqual(["r2"]);
        expect(await rooms.roomsOf("nobody")).toEqual([]);
      });

      it("tells whether two users share a room", async () => {
        const { rooms } = await fresh();
        for (const r of ["r1", "r2", "r3"]) await rooms.add(r, "a", 10);
        await rooms.add("r3", "b", 10);
        await rooms.add("r9", "c", 10);
        expect(await rooms.shareRoom("a", "b")).toBe(true);
        expect(await rooms.shareRoom("b", "a")).toBe(true);
        expect(await rooms.shareRoom("a", "c")).toBe(false);
        expect(await rooms.shareRoom("a", "nobody")).toBe(false);
        await rooms.remove("r3", "b");
        expect(await rooms.shareRoom("a", "b")).toBe(false);
      });

      it("clears a room and returns who was in it", async () => {
        const { rooms } = await fresh();
        await rooms.add("r", "a", 10);
        await rooms.add("r", "b", 10);
        await rooms.add("other", "a", 10);
        expect(sorted(await rooms.clear("r"))).toEqual(["a", "b"]);
        expect(await rooms.members("r")).toEqual([]);
        expect(await rooms.roomsOf("a")).toEqual(["other"]);
        expect(await rooms.roomsOf("b")).toEqual([]);
        expect(await rooms.shareRoom("a", "b")).toBe(false);
        expect(await rooms.clear("r")).toEqual([]);
        expect(await rooms.add("r", "c", 1)).toBe("added");
      });
    });

    describe("presence", () => {
      it("says when a user came online and went offline, across devices and sockets", async () => {
        const { presence } = await fresh();
        expect(await presence.isOnline("u")).toBe(false);
        expect(await presence.connect("u", "d1")).toBe(true);
        expect(await presence.connect("u", "d1")).toBe(false);
        expect(await presence.connect("u", "d2")).toBe(false);
        expect(await presence.isOnline("u")).toBe(true);
        expect(await presence.onlineCount()).toBe(1);
        expect(await presence.disconnect("u", "d1")).toBe(false);
        expect(await presence.disconnect("u", "d2")).toBe(false);
        expect(await presence.isOnline("u")).toBe(true);
        expect(await presence.disconnect("u", "d1")).toBe(true);
        expect(await presence.isOnline("u")).toBe(false);
        expect(await presence.onlineCount()).toBe(0);
      });

      it("counts users, not sockets", async () => {
        const { presence } = await fresh();
        await presence.connect("a", "d");
        await presence.connect("a", "e");
        await presence.connect("b", "d");
        expect(await presence.onlineCount()).toBe(2);
      });

      it("remembers when a user was last seen", async () => {
        const { presence } = await fresh();
        expect(await presence.lastSeen("u")).toBeNull();
        const before = Date.now();
        await presence.connect("u", "d");
        const connected = await presence.lastSeen("u");
        expect(Date.parse(connected ?? "")).toBeGreaterThanOrEqual(before - 1000);
        await sleep(5);
        await presence.disconnect("u", "d");
        const left = await presence.lastSeen("u");
        expect(Date.parse(left ?? "")).toBeGreaterThanOrEqual(Date.parse(connected ?? ""));
      });

      it("ignores the disconnect of a socket it never counted", async () => {
        const { presence } = await fresh();
        expect(await presence.disconnect("u", "d")).toBe(false);
        expect(await presence.connect("u", "d")).toBe(true);
        expect(await presence.disconnect("u", "other")).toBe(false);
        expect(await presence.isOnline("u")).toBe(true);
        expect(await presence.disconnect("u", "d")).toBe(true);
        expect(await presence.disconnect("u", "d")).toBe(false);
        expect(await presence.connect("u", "d")).toBe(true);
      });
    });

    describe("devices", () => {
      it("says when a device came online and went offline", async () => {
        const { devices } = await fresh();
        expect(await devices.open("u", "d")).toBe(true);
        expect(await devices.open("u", "d")).toBe(false);
        expect(await devices.close("u", "d")).toBe(false);
        expect(await devices.close("u", "d")).toBe(true);
        expect(await devices.close("u", "d")).toBe(false);
        expect(await devices.open("u", "d")).toBe(true);
      });

      it("lists the online devices among (user, device) pairs, keyed by the pair", async () => {
        const { devices, presence } = await fresh();
        await devices.open("u1", "d1");
        await devices.open("u2", "d2");
        await devices.open("u2", "d3");
        await devices.close("u2", "d3");
        await presence.connect("u3", "d4");
        const pairs = [
          { user: "u1", device: "d1" },
          { user: "u2", device: "d2" },
          { user: "u2", device: "d3" },
          { user: "u3", device: "d4" },
        ];
        expect(sorted(await devices.online(pairs))).toEqual(["d1", "d2"]);
        // another user naming the same device id does not make it theirs
        expect(await devices.online([{ user: "u9", device: "d1" }])).toEqual(new Set());
        expect(await devices.online([])).toEqual(new Set());
      });
    });

    describe("message buckets", () => {
      it("lets a burst through, then refuses with a sensible retryAfterMs, and refills", async () => {
        const { messageBuckets } = await fresh({ messageRate: 10, messageBurst: 5 });
        for (let i = 0; i < 5; i++) expect((await messageBuckets.take("u")).ok).toBe(true);
        const refused = await messageBuckets.take("u");
        expect(refused.ok).toBe(false);
        expect(refused.retryAfterMs).toBeGreaterThan(0);
        expect(refused.retryAfterMs).toBeLessThanOrEqual(100);
        expect((await messageBuckets.take("other")).ok).toBe(true);
        await sleep(refused.retryAfterMs + 30);
        expect(await messageBuckets.take("u")).toEqual({ ok: true, retryAfterMs: 0 });
        expect((await messageBuckets.take("u")).ok).toBe(false);
        messageBuckets.drop("u");
        expect(typeof (await messageBuckets.take("u")).ok).toBe("boolean");
      });
    });

    describe("instances", () => {
      it("beats, and finds nothing to reap when alone", async () => {
        const { instances } = await fresh({ instanceId: "solo" });
        expect(instances.id).toBe("solo");
        await instances.beat();
        expect(await instances.reap()).toEqual({ users: [], devices: [] });
      });

      it("restores what is already there without changing it, however often", async () => {
        const state = await fresh();
        await state.presence.connect("u", "d");
        await state.presence.connect("u", "d");
        await state.devices.open("u", "d");
        await state.devices.open("u", "d");
        await state.rooms.add("r", "u", 10);
        const snapshot = {
          sockets: [
            { user: "u", device: "d" },
            { user: "u", device: "d" },
          ],
          rooms: [{ room: "r", user: "u" }],
        };
        await state.instances.restore(snapshot);
        await state.instances.restore(snapshot);
        expect(await state.presence.onlineCount()).toBe(1);
        expect(await state.rooms.members("r")).toEqual(["u"]);
        expect(await state.presence.disconnect("u", "d")).toBe(false);
        expect(await state.presence.disconnect("u", "d")).toBe(true);
        expect(await state.devices.close("u", "d")).toBe(false);
        expect(await state.devices.close("u", "d")).toBe(true);
      });
    });
  });
}
