import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const load = (name: string) =>
  JSON.parse(readFileSync(path.join(WEB, "messages", `${name}.json`), "utf8")) as Record<string, string>;
const catalogues = { en: load("en"), de: load("de") };

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sources(full);
    return /\.tsx?$/.test(name) ? [full] : [];
  });
}
const code = ["app", "components", "lib"]
  .flatMap((d) => sources(path.join(WEB, d)))
  .map((f) => readFileSync(f, "utf8"));

/** Keys built at run time from a value: every value the server or the page can produce. */
const DYNAMIC: Record<string, string[]> = {
  role: ["owner", "admin", "moderator", "member"],
  hub: ["connecting", "online", "reconnecting", "offline"],
  platform: ["linux", "macos", "windows", "ios", "android", "other"],
  policy: ["open", "approval", "invite"],
  dm: ["sending", "sent", "delivered", "read"],
  "dm.sig": ["verified", "unverified", "unsigned", "invalid_signature"],
  "peers.path": ["direct", "relay"],
  "room.state": ["waiting", "new", "connecting", "connected", "open", "disconnected", "failed", "closed"],
};

describe("message catalogues", () => {
  it("English and German have the same keys, none empty, with the same placeholders", () => {
    const en = Object.keys(catalogues.en).sort();
    expect(Object.keys(catalogues.de).sort()).toEqual(en);
    for (const key of en) {
      for (const [locale, cat] of Object.entries(catalogues)) {
        expect(cat[key]?.trim(), `${locale}:${key}`).toBeTruthy();
      }
      const vars = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      expect(vars(catalogues.de[key] ?? ""), key).toEqual(vars(catalogues.en[key] ?? ""));
    }
  });

  it("every key the pages use is in both catalogues", () => {
    const used = new Set<string>();
    for (const text of code) {
      for (const m of text.matchAll(/\bt\(\s*"([^"]+)"/g)) used.add(m[1] as string);
    }
    expect(used.size).toBeGreaterThan(100);
    for (const [prefix, values] of Object.entries(DYNAMIC)) {
      for (const v of values) used.add(`${prefix}.${v}`);
    }
    const missing = [...used].filter((k) => !(k in catalogues.en) || !(k in catalogues.de));
    expect(missing).toEqual([]);
  });

  it("every key built from a template has its prefix listed above", () => {
    const prefixes = new Set<string>();
    for (const text of code) {
      for (const m of text.matchAll(/\bt\(\s*`([\w.]+)\.\$\{/g)) prefixes.add(m[1] as string);
    }
    expect([...prefixes].filter((p) => !(p in DYNAMIC))).toEqual([]);
  });
});
