/**
 * npm run docs: writes docs/openapi.json and the README's configuration table from
 * the code (routes' schemas and SETTINGS). Running it twice changes nothing.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { formatJson, OPENAPI_FILE, openApiDocument, README_FILE, ROOT, withConfigTable } from "./docs.js";

function writeIfChanged(file: string, text: string): void {
  const full = path.join(ROOT, file);
  let old: string | undefined;
  try {
    old = readFileSync(full, "utf8");
  } catch {
    old = undefined;
  }
  if (old === text) {
    process.stdout.write(`${file} is up to date\n`);
    return;
  }
  mkdirSync(path.dirname(full), { recursive: true });
  writeFileSync(full, text);
  process.stdout.write(`wrote ${file}\n`);
}

writeIfChanged(OPENAPI_FILE, formatJson(await openApiDocument()));
writeIfChanged(README_FILE, withConfigTable(readFileSync(path.join(ROOT, README_FILE), "utf8")));
