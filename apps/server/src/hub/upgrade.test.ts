import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { tokenOf } from "./upgrade.js";

const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe("the access token of an upgrade request", () => {
  it("is the Authorization header's bearer token, any case of the scheme, spaces around dropped", () => {
    for (const [header, token] of [
      ["Bearer abc.def.ghi", "abc.def.ghi"],
      ["bearer abc", "abc"],
      ["BEARER \t abc  ", "abc"],
      ["Bearer", ""],
      ["Bearer   ", ""],
      ["Bearerabc", ""],
      ["Basic dXNlcjpwYXNz", ""],
      ["abc", ""],
    ] as const) {
      expect(tokenOf(request({ authorization: header }), undefined), header).toBe(token);
    }
  });

  it("falls back to the bearer subprotocol, then to ?token=", () => {
    const protocols = { "sec-websocket-protocol": "warren.v2, bearer.tok1" };
    expect(tokenOf(request(protocols), new URLSearchParams("token=tok2"))).toBe("tok1");
    expect(tokenOf(request({}), new URLSearchParams("token=tok2"))).toBe("tok2");
    expect(tokenOf(request({}), undefined)).toBeUndefined();
    // A header that is there but not a bearer token is not passed over for the others.
    expect(tokenOf(request({ authorization: "Basic x", ...protocols }), undefined)).toBe("");
  });
});
