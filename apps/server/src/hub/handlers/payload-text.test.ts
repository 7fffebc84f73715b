import { describe, expect, it } from "vitest";
import { payloadText } from "./payload-text.js";

/** payloadText must give text that parses to what JSON.parse found under "payload". */
function agrees(text: string): void {
  const parsed = JSON.parse(text) as { payload?: unknown };
  const found = payloadText(text);
  if (!Object.hasOwn(parsed, "payload")) {
    expect(found).toBeUndefined();
    return;
  }
  expect(found).toBeDefined();
  expect(JSON.parse(found as string)).toStrictEqual(parsed.payload);
}

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const TRICKY_TEXT = [
  '"',
  "\\",
  "\\\\",
  '\\"',
  "{",
  "}",
  "[",
  "]",
  ",",
  ":",
  "payload",
  "é",
  "😀",
  "\u2028",
  "\n",
  "\t",
  "\u001f",
  " ",
];

/** JSON text of a random value, with random whitespace and escapes where JSON allows them. */
function text(next: () => number, depth: number): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const space = () => pick(["", "", " ", "\n", "\t ", "\r\n  "]);
  const str = (): string => {
    let s = "";
    for (let n = Math.floor(next() * 4); n > 0; n--) s += pick(TRICKY_TEXT);
    // Sometimes every character escaped as \\uXXXX, which JSON.stringify never writes.
    if (next() < 0.2)
      return `"${[...s].map((c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, "0").slice(-4)}`).join("")}"`;
    return JSON.stringify(s);
  };
  const kind = depth <= 0 ? Math.floor(next() * 4) : Math.floor(next() * 6);
  if (kind === 0)
    return pick(["0", "-0", "1.5e300", "-12.25", "1E-7", "123456789012345678901234567890", "3.0"]);
  if (kind === 1) return pick(["true", "false", "null"]);
  if (kind === 2 || kind === 3) return str();
  if (kind === 4) {
    const items: string[] = [];
    for (let n = Math.floor(next() * 4); n > 0; n--) items.push(space() + text(next, depth - 1) + space());
    return `[${items.join(",") || space()}]`;
  }
  const members: string[] = [];
  for (let n = Math.floor(next() * 4); n > 0; n--) {
    const key = next() < 0.3 ? '"payload"' : str();
    members.push(`${space()}${key}${space()}:${space()}${text(next, depth - 1)}${space()}`);
  }
  return `{${members.join(",") || space()}}`;
}

describe("payloadText", () => {
  it("finds the payload of a relay frame as written", () => {
    const frame = '{"type":"signal","to":"x","payload":{"sdp":"v=0\\r\\n","n":[1,2.50,{"a":"}"}]}}';
    expect(payloadText(frame)).toBe('{"sdp":"v=0\\r\\n","n":[1,2.50,{"a":"}"}]}');
  });

  it("takes every kind of value", () => {
    for (const value of [
      '"a\\"b\\\\"',
      "12",
      "-0.5e3",
      "true",
      "false",
      "null",
      "[]",
      "{}",
      '["]",{"[":"}"}]',
    ])
      expect(payloadText(`{"payload":${value},"to":"x"}`)).toBe(value);
  });

  it("takes the last payload when the key repeats, as JSON.parse does", () => {
    expect(payloadText('{"payload":1,"to":"x","payload":[2]}')).toBe("[2]");
  });

  it("knows the key spelled with escapes, and no other key", () => {
    expect(payloadText('{"\\u0070ayload":"yes","to":"x"}')).toBe('"yes"');
    expect(payloadText('{"payload2":1,"xpayload":2,"payloa":3,"pay\\"load":4}')).toBeUndefined();
  });

  it("skips whitespace around every token", () => {
    expect(payloadText(' \r\n{ "to" : "x" ,\t"payload" :\n [ 1 , 2 ] \n} ')).toBe("[ 1 , 2 ]");
  });

  it("ignores payload keys inside nested values and strings", () => {
    expect(payloadText('{"a":{"payload":1},"b":"\\"payload\\":2","c":["payload",3]}')).toBeUndefined();
  });

  it("gives undefined for anything but an object", () => {
    for (const value of ["[]", '"payload"', "1", "null", "{}"]) expect(payloadText(value)).toBeUndefined();
  });

  it("agrees with JSON.parse on random JSON objects", () => {
    for (let seed = 1; seed <= 5000; seed++) {
      const next = random(seed);
      let candidate = text(next, 4);
      while (!candidate.trimStart().startsWith("{")) candidate = text(next, 4);
      try {
        agrees(candidate);
      } catch (err) {
        throw new Error(`seed ${seed}: ${candidate}\n${String(err)}`);
      }
    }
  });
});
