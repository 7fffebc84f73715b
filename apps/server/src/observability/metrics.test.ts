import { describe, expect, it } from "vitest";
import { createMetrics } from "./metrics.js";

const sample = (text: string, line: string) =>
  Number(
    text
      .split("\n")
      .find((l) => l.startsWith(`${line} `))
      ?.slice(line.length + 1),
  );

describe("frame counts by type", () => {
  it("counts runs of one type and interleaved types, and each scrape adds only what came since", async () => {
    const metrics = createMetrics();
    for (const type of ["signal", "signal", "offer", "signal", "signal", "ping"]) metrics.received(type);
    metrics.sent("signal", 3);
    metrics.sent("signal");
    metrics.sent("error");
    let text = await metrics.registry.metrics();
    expect(sample(text, 'signaling_messages_received_total{type="signal"}')).toBe(4);
    expect(sample(text, 'signaling_messages_received_total{type="offer"}')).toBe(1);
    expect(sample(text, 'signaling_messages_received_total{type="ping"}')).toBe(1);
    expect(sample(text, 'signaling_messages_sent_total{type="signal"}')).toBe(4);
    expect(sample(text, 'signaling_messages_sent_total{type="error"}')).toBe(1);
    metrics.received("ping");
    text = await metrics.registry.metrics();
    expect(sample(text, 'signaling_messages_received_total{type="ping"}')).toBe(2);
    expect(sample(text, 'signaling_messages_received_total{type="signal"}')).toBe(4);
  });
});
