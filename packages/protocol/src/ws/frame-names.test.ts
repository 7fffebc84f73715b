import { describe, expect, expectTypeOf, it } from "vitest";
import { ClientFrames } from "./client-frames.js";
import {
  currentType,
  type RenamedFrameType,
  VERSION_1_NAMES,
  VERSION_2_NAMES,
  version1Text,
  version1Type,
} from "./frame-names.js";
import type { ServerFrame } from "./server-frames.js";

const DOTTED = /^[a-z]+\.[a-z]+(_[a-z]+)*$/;
const ONE_WORD = /^[a-z]+$/;

describe("frame names", () => {
  it("are one word or subject.event, for every client frame", () => {
    for (const type of Object.keys(ClientFrames))
      expect(type).toMatch(new RegExp(`${DOTTED.source}|${ONE_WORD.source}`));
  });

  it("are subject.event for every renamed server frame, and every renamed frame is a server frame", () => {
    for (const [current, old] of Object.entries(VERSION_1_NAMES)) {
      expect(current).toMatch(DOTTED);
      expect(old).toMatch(/^[a-z]+(_[a-z]+)+$/);
    }
    expectTypeOf<RenamedFrameType>().toExtend<ServerFrame["type"]>();
    // No server frame keeps a name of several words joined by "_" alone.
    expectTypeOf<Extract<ServerFrame["type"], `${string}_${string}`>>().toExtend<`${string}.${string}`>();
  });

  it("map both ways and leave other names alone", () => {
    expect(version1Type("peer.added")).toBe("peer_added");
    expect(version1Type("room.peer_joined")).toBe("peer_joined");
    expect(version1Type("room.deleted")).toBe("room.deleted");
    expect(version1Type("welcome")).toBe("welcome");
    expect(currentType("peer_left")).toBe("room.peer_left");
    expect(currentType("server.shutdown")).toBe("server.shutdown");
    expect(currentType("constructor")).toBe("constructor");
    for (const [old, current] of Object.entries(VERSION_2_NAMES)) expect(version1Type(current)).toBe(old);
    expect(new Set(Object.values(VERSION_1_NAMES)).size).toBe(Object.keys(VERSION_1_NAMES).length);
  });

  it("rewrite a serialised frame's type for version 1, keeping the rest byte for byte", () => {
    const text = JSON.stringify({
      type: "member.joined",
      tenant_id: "t",
      user: { id: "u", username: "member.joined" },
    });
    expect(version1Text(text)).toBe(text.replace('"type":"member.joined"', '"type":"member_joined"'));
    const same = JSON.stringify({ type: "dm.status", id: "x" });
    expect(version1Text(same)).toBe(same);
    // "type" not first: parsed once, still renamed.
    expect(JSON.parse(version1Text(JSON.stringify({ data: 1, type: "chat.message" })))).toEqual({
      data: 1,
      type: "chat_message",
    });
    expect(version1Text("not json")).toBe("not json");
  });
});
