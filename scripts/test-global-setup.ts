import { BUNDLES_ENV, buildTestBundles, removeTestBundles } from "./test-bundles.js";

/**
 * vitest globalSetup: builds the client and server bundles the suites' child processes
 * run (scripts/test-bundles.ts) from the current sources, once per run, before any
 * worker starts; the workers inherit the directory through the environment.
 */
export default async function setup(): Promise<() => void> {
  const dir = await buildTestBundles();
  process.env[BUNDLES_ENV] = dir;
  return () => {
    removeTestBundles(dir);
  };
}
