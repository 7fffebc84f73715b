import { describe, expect, it } from "vitest";
import { parseFrame, SUBPROTOCOLS } from "./socket-frames.js";

describe("socket frames", () => {
  it("offers version 2 first and version 1 for older servers", () => {
    expect(SUBPROTOCOLS).toEqual(["warren.v2", "warren.v1"]);
  });

  it("reads a version-1 server's frames under their version-2 names", () => {
    expect(parseFrame('{"type":"peer_added","network_id":"n"}')).toEqual({
      type: "peer.added",
      network_id: "n",
    });
    expect(parseFrame('{"type":"server_shutdown","reconnect_after_ms":5}')?.type).toBe("server.shutdown");
    expect(parseFrame('{"type":"member.joined"}')?.type).toBe("member.joined");
    expect(parseFrame('{"type":"welcome"}')?.type).toBe("welcome");
    expect(parseFrame('{"no":"type"}')).toBeUndefined();
    expect(parseFrame("[1]")).toBeUndefined();
  });
});
