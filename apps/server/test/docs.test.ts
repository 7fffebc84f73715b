import { readFileSync } from "node:fs";
import path from "node:path";
import { ERRORS } from "@warren/protocol";
import { describe, expect, it } from "vitest";
import {
  CONFIG_END,
  CONFIG_START,
  formatJson,
  OPENAPI_FILE,
  openApiDocument,
  README_FILE,
  ROOT,
  renderConfigTable,
} from "../scripts/docs.js";

/** A missing file reads as empty, so the test says "run npm run docs" rather than ENOENT. */
const read = (file: string): string => {
  try {
    return readFileSync(path.join(ROOT, file), "utf8");
  } catch {
    return "";
  }
};

describe("generated docs are current", () => {
  it(`${OPENAPI_FILE} matches the routes' schemas`, async () => {
    const fresh = formatJson(await openApiDocument());
    expect(read(OPENAPI_FILE), `${OPENAPI_FILE} is stale: run npm run docs`).toBe(fresh);
  });

  it("the README's configuration table matches SETTINGS", () => {
    const readme = read(README_FILE);
    const start = readme.indexOf(CONFIG_START);
    const end = readme.indexOf(CONFIG_END);
    expect(start, `${README_FILE} lacks ${CONFIG_START}`).toBeGreaterThanOrEqual(0);
    expect(end, `${README_FILE} lacks ${CONFIG_END} after ${CONFIG_START}`).toBeGreaterThan(start);
    const table = readme.slice(start + CONFIG_START.length, end).trim();
    expect(table, `${README_FILE}'s configuration table is stale: run npm run docs`).toBe(
      renderConfigTable(),
    );
  });
});

describe("docs/protocol.md", () => {
  const protocol = read("docs/protocol.md");

  it.each(Object.entries(ERRORS))("lists error code %s with its status", (code, { status }) => {
    const row = protocol.split("\n").find((line) => line.startsWith(`| \`${code}\``));
    expect(row, `docs/protocol.md has no table row for \`${code}\``).toBeDefined();
    expect(row, `docs/protocol.md gives \`${code}\` the wrong status`).toMatch(
      new RegExp(`^\\| \`${code}\`\\s*\\| ${status}\\s*\\|`),
    );
  });
});
