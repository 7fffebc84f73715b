/**
 * The text of a relayed frame's "payload", found in the frame's own JSON text, so the
 * relay can pass it on as it came instead of serialising the parsed value again (a
 * second walk over every payload, and for numbers a conversion back to text).
 *
 * The text given must be one JSON.parse accepted: the scan relies on it being valid
 * JSON and does not check it again. What it returns parses to the same value JSON.parse
 * gave for "payload" (the last one, when a key repeats, as JSON.parse keeps the last);
 * it may differ in spelling (whitespace, escapes, number forms), which any JSON reader
 * reads the same. Anything it does not expect gives undefined: the caller serialises then.
 */

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;

/** JSON's whitespace (RFC 8259 §2) is space, tab, line feed and carriage return, all below 33. */
function skipSpace(text: string, at: number): number {
  while (at < text.length && text.charCodeAt(at) <= 32) at++;
  return at;
}

/** Index just past the string whose opening quote is at `at`; -1 when it does not end. */
function stringEnd(text: string, at: number): number {
  let quote = text.indexOf('"', at + 1);
  while (quote !== -1) {
    // A quote ends the string unless an odd number of backslashes escapes it.
    let slashes = 0;
    while (text.charCodeAt(quote - 1 - slashes) === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return quote + 1;
    quote = text.indexOf('"', quote + 1);
  }
  return -1;
}

/** Index just past the value starting at `at`; -1 when it does not end. */
function valueEnd(text: string, at: number): number {
  const first = text.charCodeAt(at);
  if (first === QUOTE) return stringEnd(text, at);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0;
    for (let i = at; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        const end = stringEnd(text, i);
        if (end === -1) return -1;
        i = end - 1;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    return -1;
  }
  // A number, true, false or null: it runs to the next delimiter or whitespace.
  let i = at;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || c <= 32) break;
    i++;
  }
  return i === at ? -1 : i;
}

/**
 * Whether the key from `start` (its opening quote) to `end` (past its closing quote) is
 * "payload". Spelled with escapes (\u0070ayload) it is longer than 9 characters and
 * holds a backslash: only such a key is decoded.
 */
function isPayloadKey(text: string, start: number, end: number): boolean {
  const length = end - start;
  if (length === 9) return text.startsWith('payload"', start + 1);
  if (length < 9) return false;
  for (let i = start + 1; i < end - 1; i++) {
    if (text.charCodeAt(i) === BACKSLASH) return JSON.parse(text.slice(start, end)) === "payload";
  }
  return false;
}

/** The JSON text of the top-level object's "payload" member, or undefined. */
export function payloadText(text: string): string | undefined {
  let at = skipSpace(text, 0);
  if (text.charCodeAt(at) !== OPEN_BRACE) return undefined;
  at = skipSpace(text, at + 1);
  if (text.charCodeAt(at) === CLOSE_BRACE) return undefined;
  let found: string | undefined;
  for (;;) {
    if (text.charCodeAt(at) !== QUOTE) return undefined;
    const keyEnd = stringEnd(text, at);
    if (keyEnd === -1) return undefined;
    const isPayload = isPayloadKey(text, at, keyEnd);
    at = skipSpace(text, keyEnd);
    if (text.charCodeAt(at) !== COLON) return undefined;
    at = skipSpace(text, at + 1);
    const end = valueEnd(text, at);
    if (end === -1) return undefined;
    if (isPayload) found = text.slice(at, end);
    at = skipSpace(text, end);
    const next = text.charCodeAt(at);
    if (next === CLOSE_BRACE) return found;
    if (next !== COMMA) return undefined;
    at = skipSpace(text, at + 1);
  }
}
