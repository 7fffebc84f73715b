#!/usr/bin/env node
// Builds the dashboard's static export (apps/web/out) when it is missing or older than
// its sources, then reports the first page's JavaScript, gzipped, against its budget.
// `--force` builds anyway. Used by `npm start`, `npm run build:web` and the browser
// tests (which share one build: a lock directory makes concurrent callers wait).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const REPO = path.resolve(WEB, "../..");
const OUT = path.join(WEB, "out");
// Beside out/, not in it: the server serves everything in out/.
const STAMP = path.join(WEB, ".build-hash");
const LOCK = path.join(WEB, ".build-lock");
const BUDGET_KB = 250;

const INPUTS = [
  "apps/web/app",
  "apps/web/components",
  "apps/web/lib",
  "apps/web/messages",
  "apps/web/next.config.mjs",
  "apps/web/postcss.config.mjs",
  "apps/web/package.json",
  "packages/sdk/src",
  "packages/protocol/src",
  "package-lock.json",
];

function files(p) {
  const full = path.join(REPO, p);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [p];
  return readdirSync(full)
    .filter((n) => !n.endsWith(".test.ts"))
    .sort()
    .flatMap((n) => files(path.join(p, n)));
}

/** A hash of every input file's path and content: the build is fresh when it matches. */
export function sourceHash() {
  const hash = createHash("sha256");
  for (const f of INPUTS.flatMap(files)) {
    hash.update(f);
    hash.update(readFileSync(path.join(REPO, f)));
  }
  return hash.digest("hex");
}

export function isFresh(hash = sourceHash()) {
  return (
    existsSync(path.join(OUT, "index.html")) && existsSync(STAMP) && readFileSync(STAMP, "utf8") === hash
  );
}

/**
 * The gzipped size of the JavaScript the home page loads before anything else. Scripts
 * marked noModule (the legacy polyfills) are left out: browsers with ES modules, every
 * one the dashboard supports, never fetch them.
 */
export function firstPageJs() {
  const html = readFileSync(path.join(OUT, "index.html"), "utf8");
  const tags = [...html.matchAll(/<script[^>]+src="([^"]+\.js)"[^>]*>/g)].filter(
    (m) => !/nomodule/i.test(m[0]),
  );
  const scripts = [...new Set(tags.map((m) => m[1]))];
  let raw = 0;
  let gzip = 0;
  for (const src of scripts) {
    const body = readFileSync(path.join(OUT, src.replace(/^\//, "")));
    raw += body.length;
    gzip += gzipSync(body, { level: 9 }).length;
  }
  return { files: scripts.length, rawKb: raw / 1024, gzipKb: gzip / 1024 };
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function build() {
  const result = spawnSync(
    process.execPath,
    [path.join(REPO, "node_modules/next/dist/bin/next"), "build", "--webpack"],
    {
      cwd: WEB,
      stdio: "inherit",
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
    },
  );
  if (result.status !== 0) throw new Error(`next build failed (exit ${result.status})`);
}

export function ensureBuild({ force = false, quiet = false } = {}) {
  const hash = sourceHash();
  if (!force && isFresh(hash)) return { built: false };
  // One builder at a time; the others wait and then find the build fresh.
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // A lock older than the longest build is left over from a killed builder.
      if (existsSync(LOCK) && Date.now() - statSync(LOCK).mtimeMs > 10 * 60_000)
        rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`waited too long for ${LOCK}`);
      sleep(500);
    }
  }
  try {
    if (!force && isFresh(hash)) return { built: false };
    if (!quiet) console.log("Building the web dashboard (apps/web) ...");
    build();
    writeFileSync(STAMP, hash);
    const js = firstPageJs();
    const verdict = js.gzipKb <= BUDGET_KB ? "within" : "OVER";
    console.log(
      `web: first page JavaScript ${js.gzipKb.toFixed(1)} KB gzipped (${js.rawKb.toFixed(1)} KB raw, ${js.files} files), ${verdict} the ${BUDGET_KB} KB budget`,
    );
    if (js.gzipKb > BUDGET_KB) throw new Error("the first page's JavaScript is over budget");
    return { built: true, ...js };
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    ensureBuild({ force: process.argv.includes("--force") });
  } catch (err) {
    console.error(`web build: ${err.message}`);
    process.exit(1);
  }
}
