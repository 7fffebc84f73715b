import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
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

describe("the client pack", { timeout: 300_000 }, () => {
  let t: TestServer;
  let prefix: string;
  let warren: string;
  const version = JSON.parse(readFileSync(path.join(REPO, "apps/cli/package.json"), "utf8"))
    .version as string;

  beforeAll(async () => {
    const built = await run(process.execPath, ["--import", "tsx", "scripts/build.ts", "--pack"], {
      cwd: REPO,
      timeout: 240_000,
    });
    const tarball = path.join(REPO, built.stdout.split("\n").find((l) => /\/warren-\d/.test(l)) ?? "");
    expect(existsSync(tarball), `client tarball in:\n${built.stdout}`).toBe(true);
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
    removeTempDirs();
  });

  const cli = async (args: string[], configDir: string, input?: string) => {
    const child = execFile(warren, args, {
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

  it("logs in to a real server, creates a network and prints its wg-quick config", async () => {
    const dir = tempDir();
    const { user } = await register(t.api, { username: uniqueName("pack") });
    const login = await cli(["login", "--username", user.username, "--password-stdin"], dir, `${PASSWORD}\n`);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain(`logged in to ${t.url} as ${user.username}`);

    const club = uniqueName("packclub");
    expect((await cli(["tenants", "create", club], dir)).code).toBe(0);
    const net = await cli(["networks", "create", club, "--name", "lan", "--cidr", "10.61.0.0/24"], dir);
    expect(net.code, net.stderr).toBe(0);
    const config = await cli(["config", "lan", "--name", "packed-box"], dir);
    expect(config.code, config.stderr).toBe(0);
    expect(config.stdout).toMatch(/^\[Interface\]$/m);
    expect(config.stdout).toMatch(/^PrivateKey = \S+$/m);
    expect(config.stdout).toMatch(/^Address = 10\.61\.0\.\d+\/24$/m);
  });
});
