/** Why a parsed JSON value is refused: too deeply nested, or text holding NUL. */
export type JsonRefusal = "json_too_deep" | "invalid_text";

/**
 * Checks a parsed JSON value (a body, a WebSocket frame, a query) before anything else
 * walks it: at most `maxDepth` levels of arrays and objects, and no string (value or key)
 * containing U+0000. JSON.parse itself copes with deep nesting, but every later recursive
 * walk (serialising a relayed payload, validation, logging) would overflow the stack;
 * and PostgreSQL refuses NUL in text where SQLite stores it, so the same input must get
 * the same answer on both. The walk recurses at most `maxDepth` deep, so it cannot
 * overflow itself.
 */
export function refuseJson(value: unknown, maxDepth: number): JsonRefusal | undefined {
  return walk(value, maxDepth);
}

/**
 * False when JSON text cannot hold anything refuseJson refuses, so the walk over its
 * parsed value can be skipped: U+0000 appears in valid JSON text only as the escape
 * \u0000 (a raw control character is not valid JSON), and nesting deeper than
 * `maxDepth` takes more than `maxDepth` opening brackets. Brackets and escapes inside
 * strings count too: that only means a walk that finds nothing.
 */
export function textMayBeRefused(text: string, maxDepth: number): boolean {
  if (text.includes("\\u0000")) return true;
  let brackets = 0;
  for (const bracket of BRACKETS) {
    for (let at = text.indexOf(bracket); at !== -1; at = text.indexOf(bracket, at + 1)) {
      if (++brackets > maxDepth) return true;
    }
  }
  return false;
}
const BRACKETS = ["{", "["];

function walk(value: unknown, left: number): JsonRefusal | undefined {
  if (typeof value === "string") return value.includes("\0") ? "invalid_text" : undefined;
  if (typeof value !== "object" || value === null) return undefined;
  if (left <= 0) return "json_too_deep";
  if (Array.isArray(value)) {
    for (const item of value) {
      const refused = walk(item, left - 1);
      if (refused) return refused;
    }
    return undefined;
  }
  for (const key in value) {
    if (key.includes("\0")) return "invalid_text";
    const refused = walk((value as Record<string, unknown>)[key], left - 1);
    if (refused) return refused;
  }
  return undefined;
}

export const JSON_REFUSAL_MESSAGES: Record<JsonRefusal, (maxDepth: number) => string> = {
  json_too_deep: (max) => `Arrays and objects may nest at most ${max} levels deep`,
  invalid_text: () => "Text may not contain the NUL character (U+0000)",
};
