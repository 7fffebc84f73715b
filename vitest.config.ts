import { configDefaults, defineConfig } from "vitest/config";
import LongFirstSequencer from "./scripts/test-sequencer.js";

// The WireGuard suites (the LAN one and the NAT lab) need root, wireguard-go and
// nftables (.ci/run installs them and sets WARREN_TEST_WIREGUARD=1); elsewhere the files
// are left out rather than failing.
const wireGuardSuites = ["apps/cli/test/lan.test.ts", "apps/cli/test/nat.test.ts"];
if (!process.env.WARREN_TEST_WIREGUARD) {
  console.warn(
    `${wireGuardSuites.join(", ")} not run: set WARREN_TEST_WIREGUARD=1 (root, wireguard-go, nft) to include them`,
  );
}

export default defineConfig({
  test: {
    include: [
      "packages/*/src/**/*.test.ts",
      "packages/*/test/**/*.test.ts",
      "apps/*/src/**/*.test.ts",
      "apps/*/test/**/*.test.ts",
    ],
    exclude: process.env.WARREN_TEST_WIREGUARD
      ? configDefaults.exclude
      : [...configDefaults.exclude, ...wireGuardSuites],
    // Generous: a server process starts in ~2 s on an idle machine but 10-20 s on a loaded one.
    testTimeout: 90_000,
    hookTimeout: 60_000,
    // Builds the client and server bundles the suites' child processes run, once per run
    // from the current sources (scripts/test-bundles.ts).
    globalSetup: ["scripts/test-global-setup.ts"],
    // The longest files first, so the run does not end on one of them (scripts/test-sequencer.ts).
    sequence: { sequencer: LongFirstSequencer },
    pool: "forks",
    // Two cores: argon2 and database servers need their share.
    maxWorkers: 2,
  },
});
