import { Compile } from "typebox/compile";
import { describe, expect, it } from "vitest";
import { ClientFrames, RELAY_TYPES, type RelayType } from "./client-frames.js";
import { isRelayFrame } from "./relay-frame-check.js";

const schemas = new Map(RELAY_TYPES.map((type) => [type, Compile(ClientFrames[type])]));
const schemaAccepts = (frame: unknown, type: RelayType) =>
  (schemas.get(type) as { Check(v: unknown): boolean }).Check(frame);

const UUID = "0190a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a5b";

/** Values each field is tried with: valid ones, near misses and the wrong kinds. */
const IDS = [
  "a",
  "x".repeat(64),
  "x".repeat(65),
  "😀".repeat(64), // 128 UTF-16 units, 64 code points: the schema's to decide
  "😀".repeat(65),
  "",
  "é",
  7,
  null,
  undefined,
];
const TOS = [
  UUID,
  UUID.toUpperCase(),
  `${UUID}\n`,
  ` ${UUID}`,
  UUID.replace(/-/g, "_"),
  UUID.slice(1),
  `${UUID}0`,
  UUID.replace("a", "g"),
  UUID.replace("-", "0"),
  "0190a2b3c4d57e6f8a9b0c1d2e3f4a5b",
  "０190a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a5b",
  "",
  42,
  null,
  undefined,
  { id: UUID },
];
const DEVICES = [
  "phone",
  "A-Z_a.z:0-9",
  "d".repeat(64),
  "d".repeat(65),
  "",
  "with space",
  "dévice",
  "tab\t",
  "slash/",
  "line\n",
  "@",
  "[",
  "`",
  "{",
  "/",
  ";",
  1,
  null,
  undefined,
];
const PAYLOADS = [{ sdp: "v=0" }, null, 0, "x", [], undefined];

/** Every combination of the values above, with each optional key absent as well. */
function* frames(type: RelayType): Generator<Record<string, unknown>> {
  for (const id of [...IDS, "absent"])
    for (const to of [...TOS, "absent"])
      for (const device of [...DEVICES, "absent"])
        for (const payload of [...PAYLOADS, "absent"]) {
          const frame: Record<string, unknown> = { type };
          if (id !== "absent") frame.id = id;
          if (to !== "absent") frame.to = to;
          if (device !== "absent") frame.to_device = device;
          if (payload !== "absent") frame.payload = payload;
          yield frame;
        }
}

describe("isRelayFrame", () => {
  it("accepts only what the schema accepts, and all of it but ids past 64 UTF-16 units", () => {
    let accepted = 0;
    for (const type of RELAY_TYPES) {
      for (const frame of frames(type)) {
        const quick = isRelayFrame(frame, type);
        const schema = schemaAccepts(frame, type);
        const longId = typeof frame.id === "string" && frame.id.length > 64;
        if (quick !== schema && !(schema && longId))
          throw new Error(`${type}: quick ${quick}, schema ${schema} for ${JSON.stringify(frame)}`);
        if (quick) accepted++;
      }
    }
    expect(accepted).toBeGreaterThan(500);
  });

  it("refuses a frame of another type, an array and a frame without payload", () => {
    const frame = { type: "offer", to: UUID, payload: 1 };
    expect(isRelayFrame(frame, "offer")).toBe(true);
    expect(isRelayFrame(frame, "answer")).toBe(false);
    expect(isRelayFrame(Object.assign([], frame), "offer")).toBe(false);
    expect(isRelayFrame({ type: "offer", to: UUID }, "offer")).toBe(false);
  });

  it("takes keys as the schema does: a key read through the prototype counts", () => {
    const inherited = Object.create({ payload: 1 }) as Record<string, unknown>;
    inherited.type = "signal";
    inherited.to = UUID;
    expect(isRelayFrame(inherited, "signal")).toBe(schemaAccepts(inherited, "signal"));
  });
});
