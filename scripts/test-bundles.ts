/**
 * The client and the server as plain JavaScript for the test suites' child processes:
 * `node --import tsx src/bin.ts` pays tsx's transform of every module on each start
 * (a second or more of CPU); a bundle starts like the installed command. vitest's
 * globalSetup (scripts/test-global-setup.ts) builds them once per run from the current
 * sources into a fresh directory, and removes it at the end.
 *
 * Freshness: the build records every input file with its modification time
 * (bundles.json); `bundleCommand` checks them and falls back to tsx when a source
 * changed after the build (watch mode), so a stale bundle is never run.
 *
 * Layout (node_modules/.cache/warren-test-bundles/run-*): bin/ holds the bundles and web
 * links to apps/web/out, the server pack's layout (dist/chunks beside dist/web), so the
 * server finds the dashboard where apps/server/src/plugins/web.ts looks for it.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PARENT = path.join(ROOT, "node_modules/.cache/warren-test-bundles");
export const BUNDLES_ENV = "WARREN_TEST_BUNDLES";
const MANIFEST = "bundles.json";

export const SOURCES = {
  client: path.join(ROOT, "apps/cli/src/bin.ts"),
  server: path.join(ROOT, "apps/server/src/bin.ts"),
} as const;
const OUTPUT = { client: "bin/warren.mjs", server: "bin/warren-server.mjs" } as const;
export type Program = keyof typeof SOURCES;

// As scripts/build.ts: ESM output with CommonJS dependencies inside needs a real `require`.
const REQUIRE_BANNER = [
  'import { createRequire as __warrenCreateRequire } from "node:module";',
  "const require = __warrenCreateRequire(import.meta.url);",
].join("\n");

interface Manifest {
  builtAt: number;
  inputs: string[];
}

/** Builds both bundles into a new directory and returns it. */
export async function buildTestBundles(): Promise<string> {
  const { build } = await import("esbuild");
  mkdirSync(PARENT, { recursive: true });
  const dir = mkdtempSync(path.join(PARENT, "run-"));
  chmodSync(dir, 0o755);
  symlinkSync(path.join(ROOT, "apps/web/out"), path.join(dir, "web"));
  const builtAt = Date.now();
  const server = JSON.parse(readFileSync(path.join(ROOT, "apps/server/package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
  };
  // The server's npm dependencies stay external (native drivers, plugins that read their
  // own files) and resolve from the repository's node_modules; our workspaces are inlined.
  const serverExternal = [...Object.keys(server.dependencies ?? {}), "typebox"]
    .filter((d) => !d.startsWith("@warren/"))
    .flatMap((d) => [d, `${d}/*`]);
  const common = {
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20.19",
    banner: { js: REQUIRE_BANNER },
    metafile: true,
    logLevel: "warning",
  } as const;
  const results = await Promise.all([
    build({
      ...common,
      entryPoints: [SOURCES.client],
      outfile: path.join(dir, OUTPUT.client),
      external: ["bufferutil", "utf-8-validate"],
    }),
    build({
      ...common,
      entryPoints: [SOURCES.server],
      outfile: path.join(dir, OUTPUT.server),
      external: serverExternal,
    }),
  ]);
  const inputs = [...new Set(results.flatMap((r) => Object.keys(r.metafile.inputs)))].map((f) =>
    path.resolve(ROOT, f),
  );
  const manifest: Manifest = { builtAt, inputs };
  writeFileSync(path.join(dir, MANIFEST), JSON.stringify(manifest));
  return dir;
}

export function removeTestBundles(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

const fresh = new Map<string, boolean>();

/** True when no input of the bundles in `dir` changed after they were built. */
function isFresh(dir: string): boolean {
  let known = fresh.get(dir);
  if (known === undefined) {
    known = false;
    const file = path.join(dir, MANIFEST);
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, "utf8")) as Manifest;
      known = manifest.inputs.every((f) => existsSync(f) && statSync(f).mtimeMs < manifest.builtAt);
    }
    fresh.set(dir, known);
  }
  return known;
}

const TSX = pathToFileURL(path.join(ROOT, "node_modules/tsx/dist/loader.mjs")).href;

/**
 * The node arguments that run `program`: its bundle when this test run built a fresh
 * one, else the TypeScript source through tsx (outside vitest, e.g. `npm run lab`).
 */
export function bundleCommand(program: Program): string[] {
  const dir = process.env[BUNDLES_ENV];
  if (dir && isFresh(dir)) return [path.join(dir, OUTPUT[program])];
  return ["--import", TSX, SOURCES[program]];
}
