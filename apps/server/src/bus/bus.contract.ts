import { afterEach, describe, expect, it } from "vitest";
import type { Bus, BusEvent } from "./bus.js";

/** What every Bus implementation must do; run against each in bus.test.ts. */
export function busContract(name: string, make: () => Promise<Bus> | Bus, settle: () => Promise<void>) {
  describe(`bus contract: ${name}`, () => {
    const open: Bus[] = [];
    const bus = async () => {
      const b = await make();
      open.push(b);
      return b;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((b) => b.close()));
    });
    const frame = (text: string): BusEvent => ({ kind: "frame", frame: text });

    it("delivers to every subscriber of the topic and reports that someone received it", async () => {
      const b = await bus();
      const got: string[] = [];
      b.subscribe("t:1", (_t, e) => got.push(`a:${(e as { frame: string }).frame}`));
      b.subscribe("t:1", (_t, e) => got.push(`b:${(e as { frame: string }).frame}`));
      await settle();
      expect(await b.publish("t:1", frame("x"))).toBeGreaterThan(0);
      await settle();
      expect(got.sort()).toEqual(["a:x", "b:x"]);
    });

    it("reports 0 and delivers nothing when nobody listens", async () => {
      const b = await bus();
      const got: unknown[] = [];
      b.subscribe("t:other", (_t, e) => got.push(e));
      await settle();
      expect(await b.publish("t:none", frame("x"))).toBe(0);
      await settle();
      expect(got).toEqual([]);
    });

    it("stops delivering after unsubscribe", async () => {
      const b = await bus();
      const got: unknown[] = [];
      const handler = (_t: string, e: BusEvent) => got.push(e);
      b.subscribe("t:2", handler);
      await settle();
      b.unsubscribe("t:2", handler);
      await settle();
      expect(await b.publish("t:2", frame("x"))).toBe(0);
      await settle();
      expect(got).toEqual([]);
    });

    it("keeps a topic's other handlers when one goes, and adds a handler only once", async () => {
      const b = await bus();
      const got: string[] = [];
      const first = (_t: string, e: BusEvent) => got.push(`1:${(e as { frame: string }).frame}`);
      const second = (_t: string, e: BusEvent) => got.push(`2:${(e as { frame: string }).frame}`);
      b.subscribe("t:5", first);
      b.subscribe("t:5", first);
      b.subscribe("t:5", second);
      await settle();
      await b.publish("t:5", frame("a"));
      await settle();
      b.unsubscribe("t:5", first);
      b.unsubscribe("t:5", first);
      b.unsubscribe("t:nothing", second);
      await settle();
      expect(await b.publish("t:5", frame("b"))).toBeGreaterThan(0);
      await settle();
      b.unsubscribe("t:5", second);
      await settle();
      expect(await b.publish("t:5", frame("c"))).toBe(0);
      await settle();
      expect(got.sort()).toEqual(["1:a", "2:a", "2:b"]);
    });

    it("keeps events of one topic in order and passes the topic to the handler", async () => {
      const b = await bus();
      const got: string[] = [];
      b.subscribe("t:3", (topic, e) => got.push(`${topic}/${(e as { frame: string }).frame}`));
      await settle();
      for (let i = 0; i < 50; i++) await b.publish("t:3", frame(String(i)));
      await settle();
      expect(got).toEqual(Array.from({ length: 50 }, (_, i) => `t:3/${i}`));
    });

    it("carries every event kind intact", async () => {
      const b = await bus();
      const got: BusEvent[] = [];
      b.subscribe("t:4", (_t, e) => got.push(e));
      await settle();
      const events: BusEvent[] = [
        { kind: "frame", frame: '{"type":"x"}', type: "x", except: "c1" },
        { kind: "room.subscribe", room: "r", user: "u" },
        { kind: "room.unsubscribe", room: "r", user: "u" },
        { kind: "topics.add", topics: ["tenant:t", "network:n"] },
        { kind: "topics.remove", topics: ["network:n"] },
        { kind: "session.ended", session: "s" },
      ];
      for (const e of events) await b.publish("t:4", e);
      await settle();
      expect(got).toEqual(events);
      expect(b.healthy()).toBe(true);
    });

    it("settles once its subscriptions are in force", async () => {
      const b = await bus();
      const got: unknown[] = [];
      for (let i = 0; i < 20; i++) b.subscribe(`t:s${i}`, (_t, e) => got.push(e));
      await b.settled();
      expect(await b.publish("t:s19", frame("x"))).toBeGreaterThan(0);
      await settle();
      expect(got).toHaveLength(1);
    });
  });
}
