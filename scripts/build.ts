/**
 * Builds the workspaces to JavaScript and, with `--pack`, makes the tarballs people install:
 *
 *   packages/protocol/dist, packages/sdk/dist   JavaScript + type declarations (tsc)
 *   apps/cli/dist/                              the client: self-contained, no dependencies (esbuild)
 *   apps/server/dist/                           the server (and the web dashboard's export in
 *                                               dist/web): our code in one bundle, its npm
 *                                               dependencies left as dependencies (native
 *                                               drivers, Fastify plugins that read their own files)
 *   dist/packs/*.tgz                            `npm pack` of each, from a staging folder whose
 *                                               package.json points at the built files
 *
 * The workspaces' own package.json files keep pointing at src/: tests, type-checking and
 * `npm start` run the TypeScript sources through tsx, and never need a build.
 *
 * Usage: node --import tsx scripts/build.ts [--pack]
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PACKS = path.join(ROOT, "dist/packs");

interface Manifest {
  [key: string]: unknown;
  name: string;
  version: string;
  description?: string;
  license?: string;
  engines?: Record<string, string>;
  dependencies?: Record<string, string>;
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(path.join(ROOT, file), "utf8")) as T;
}

const root = readJson<Manifest>("package.json");
const ENGINES = root.engines ?? {};
// Node.js 20.19 is the oldest line whose `require(esm)` and import attributes we rely on.
const TARGET = "node20.19";
// ESM output with CommonJS dependencies inside: esbuild's `require` shim cannot load Node
// built-ins from an ES module, so give the bundle a real `require`.
const REQUIRE_BANNER = [
  'import { createRequire as __warrenCreateRequire } from "node:module";',
  "const require = __warrenCreateRequire(import.meta.url);",
].join("\n");

function run(command: string, args: string[], cwd = ROOT): string {
  return execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
}

/** tsc emits JavaScript and declarations for a library (its tsconfig.build.json). */
function buildLibrary(dir: string): void {
  rmSync(path.join(ROOT, dir, "dist"), { recursive: true, force: true });
  run(process.execPath, [
    path.join(ROOT, "node_modules/typescript/bin/tsc"),
    "-p",
    `${dir}/tsconfig.build.json`,
  ]);
}

async function buildCli(): Promise<void> {
  const outdir = path.join(ROOT, "apps/cli/dist");
  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: { warren: path.join(ROOT, "apps/cli/src/bin.ts") },
    outdir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    // The commands and the SDK in a chunk of their own: `warren --version` reads only
    // the entry point. Everything is inlined: the pack installs with no dependencies.
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    platform: "node",
    format: "esm",
    target: TARGET,
    // ws loads these native speed-ups if present; the client does without them.
    external: ["bufferutil", "utf-8-validate"],
    banner: { js: REQUIRE_BANNER },
    legalComments: "linked",
    minifySyntax: true,
    logLevel: "warning",
  });
  setShebang(path.join(outdir, "warren.mjs"));
}

/** The bin's first line runs plain node (the source's own line asks for tsx). */
function setShebang(file: string): void {
  const text = readFileSync(file, "utf8").replace(/^#![^\n]*\n/, "");
  writeFileSync(file, `#!/usr/bin/env node\n${text}`);
}

async function buildServer(): Promise<void> {
  const outdir = path.join(ROOT, "apps/server/dist");
  rmSync(outdir, { recursive: true, force: true });
  const server = readJson<Manifest>("apps/server/package.json");
  // Our workspaces are inlined; every npm dependency stays a dependency of the pack.
  const external = [...Object.keys(server.dependencies ?? {}), "typebox"].filter(
    (d) => !d.startsWith("@warren/"),
  );
  await build({
    entryPoints: { "warren-server": path.join(ROOT, "apps/server/src/bin.ts") },
    outdir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    platform: "node",
    format: "esm",
    target: TARGET,
    external: external.flatMap((d) => [d, `${d}/*`]),
    banner: { js: REQUIRE_BANNER },
    legalComments: "linked",
    logLevel: "warning",
  });
  // The shebang only on the entry point (a banner would put one on every chunk).
  setShebang(path.join(outdir, "warren-server.mjs"));
  // The dashboard ships inside the server pack: built when missing or stale (a no-op
  // when fresh), then copied beside the chunks, where plugins/web.ts looks for it.
  run(process.execPath, [path.join(ROOT, "apps/web/scripts/build.mjs")]);
  run("cp", ["-R", path.join(ROOT, "apps/web/out"), path.join(outdir, "web")]);
  rmSync(path.join(outdir, "web/.build-hash"), { force: true });
}

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  link?: boolean;
  dev?: boolean;
  [key: string]: unknown;
}

/**
 * An npm-shrinkwrap.json for a pack with `dependencies`: the part of the repository's
 * package-lock.json those dependencies reach, so `npm install -g` of the pack installs the
 * versions the test suites ran with, not whatever the ranges resolve to that day.
 * Node's lookup is followed: a package at node_modules/a finds d at
 * node_modules/a/node_modules/d, else further up.
 */
function shrinkwrap(name: string, version: string, dependencies: Record<string, string>): object {
  const lock = readJson<{ packages: Record<string, LockEntry> }>("package-lock.json");
  const picked: Record<string, LockEntry> = {};
  const resolve = (from: string, dep: string): string | undefined => {
    let dir = from;
    for (;;) {
      const candidate = `${dir ? `${dir}/` : ""}node_modules/${dep}`;
      if (lock.packages[candidate] && !lock.packages[candidate].link) return candidate;
      if (!dir) return undefined;
      const up = dir.lastIndexOf("/node_modules/");
      dir = up < 0 ? "" : dir.slice(0, up);
    }
  };
  const visit = (from: string, deps: Record<string, string>, optional: Set<string>) => {
    for (const dep of Object.keys(deps)) {
      const at = resolve(from, dep);
      if (!at) {
        if (optional.has(dep)) continue;
        throw new Error(`shrinkwrap: ${dep} (needed by ${from || name}) is not in package-lock.json`);
      }
      if (picked[at]) continue;
      const { dev: _dev, devOptional: _devOptional, peer: _peer, ...entry } = lock.packages[at] as LockEntry;
      picked[at] = entry;
      const own = { ...entry.dependencies, ...entry.optionalDependencies };
      visit(at, own, new Set(Object.keys(entry.optionalDependencies ?? {})));
    }
  };
  visit("", dependencies, new Set());
  const packages = Object.fromEntries(Object.entries(picked).sort(([a], [b]) => a.localeCompare(b)));
  return {
    name,
    version,
    lockfileVersion: 3,
    requires: true,
    packages: { "": { name, version, dependencies }, ...packages },
  };
}

/** Writes a staging folder with `manifest` and `files` (from → name), and packs it. */
function pack(name: string, manifest: Manifest & object, files: Record<string, string>): string {
  const stage = path.join(PACKS, "stage", name);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  writeFileSync(path.join(stage, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  if (
    manifest.dependencies &&
    Object.keys(manifest.dependencies).length &&
    !manifest.name.startsWith("@warren/")
  ) {
    const wrap = shrinkwrap(manifest.name, manifest.version, manifest.dependencies);
    writeFileSync(path.join(stage, "npm-shrinkwrap.json"), `${JSON.stringify(wrap, null, 2)}\n`);
  }
  for (const [from, to] of Object.entries(files)) {
    const target = path.join(stage, to);
    mkdirSync(path.dirname(target), { recursive: true });
    run("cp", ["-R", path.join(ROOT, from), target]);
  }
  const out = run("npm", ["pack", "--json", "--pack-destination", PACKS], stage);
  const [info] = JSON.parse(out) as { filename: string }[];
  if (!info) throw new Error(`npm pack gave no tarball for ${name}`);
  return path.join(PACKS, info.filename);
}

function libraryManifest(dir: string, extra: Partial<Manifest> = {}): Manifest {
  const m = readJson<Manifest>(`${dir}/package.json`);
  const deps = Object.fromEntries(
    Object.entries(m.dependencies ?? {}).map(([d, v]) => [d, d.startsWith("@warren/") ? m.version : v]),
  );
  return {
    name: m.name,
    version: m.version,
    description: m.description,
    license: root.license,
    type: "module",
    engines: ENGINES,
    exports: { ".": { types: "./dist/index.d.ts", default: "./dist/index.js" } },
    dependencies: deps,
    ...extra,
  };
}

async function main(): Promise<void> {
  const packing = process.argv.includes("--pack");
  buildLibrary("packages/protocol");
  buildLibrary("packages/sdk");
  await buildCli();
  await buildServer();
  if (!packing) return;

  rmSync(PACKS, { recursive: true, force: true });
  mkdirSync(PACKS, { recursive: true });
  const cli = readJson<Manifest>("apps/cli/package.json");
  const server = readJson<Manifest>("apps/server/package.json");
  const protocol = readJson<Manifest>("packages/protocol/package.json");
  const made = [
    pack("protocol", libraryManifest("packages/protocol"), { "packages/protocol/dist": "dist" }),
    pack("sdk", libraryManifest("packages/sdk"), { "packages/sdk/dist": "dist" }),
    pack(
      "warren",
      {
        name: "warren",
        version: cli.version,
        description: "warren client: log in, manage communities and networks, bring a device onto them",
        license: root.license,
        type: "module",
        engines: ENGINES,
        bin: { warren: "dist/warren.mjs" },
        // No dependencies: protocol, SDK, commander and ws are inside dist/.
      },
      { "apps/cli/dist": "dist", "docs/cli.md": "README.md" },
    ),
    pack(
      "warren-server",
      {
        name: "warren-server",
        version: server.version,
        description: "warren server: REST API, WebSocket hub and metrics for virtual LANs over WireGuard",
        license: root.license,
        type: "module",
        engines: ENGINES,
        bin: { "warren-server": "dist/warren-server.mjs" },
        dependencies: Object.fromEntries(
          Object.entries({ ...server.dependencies, ...protocol.dependencies })
            .filter(([d]) => !d.startsWith("@warren/"))
            .sort(([a], [b]) => a.localeCompare(b)),
        ),
        allowScripts: { "better-sqlite3": true, bufferutil: true },
      },
      { "apps/server/dist": "dist", "docs/operations.md": "README.md" },
    ),
  ];
  rmSync(path.join(PACKS, "stage"), { recursive: true, force: true });
  for (const file of made) process.stdout.write(`${path.relative(ROOT, file)}\n`);
}

await main();
