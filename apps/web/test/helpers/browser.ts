import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import type { Backend } from "../../../server/test/helpers/backends.js";
import { startTestServer, type TestServer } from "../../../server/test/helpers/server.js";

const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const OUTPUT = path.join(WEB, "test-output");

/**
 * Debian's Chromium (CI installs it and sets WARREN_TEST_CHROMIUM); no browser is
 * downloaded. Without one the browser suites are skipped with the reason printed.
 */
export const CHROMIUM =
  process.env.WARREN_TEST_CHROMIUM || (existsSync("/usr/bin/chromium") ? "/usr/bin/chromium" : undefined);
if (!CHROMIUM) {
  console.warn("browser suites skipped: no Chromium (apt-get install chromium, or set WARREN_TEST_CHROMIUM)");
}

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // WebRTC on loopback: offer plain host candidates instead of mDNS names nothing resolves here.
  "--disable-features=WebRtcHideLocalIpsWithMdns",
];

/**
 * The static export, built once and shared by every suite: the build script skips the
 * build when apps/web/out matches its sources, and a lock makes parallel suites wait.
 */
export function buildOnce(): void {
  const result = spawnSync(process.execPath, [path.join(WEB, "scripts/build.mjs")], { stdio: "inherit" });
  if (result.status !== 0) throw new Error("the web build failed");
}

export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
}

/** A real server on a free loopback port over a fresh database, serving the dashboard. */
export async function startDashboard(backend: Backend): Promise<TestServer> {
  buildOnce();
  // Every browser of the suite connects from 127.0.0.1: the per-address upgrade limit
  // (60 a minute) is meant for distinct clients, and a page load is an upgrade.
  return startTestServer(backend, { UPGRADE_RATE_LIMIT: "100000" });
}

export async function newUser(
  browser: Browser,
  width = 1280,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return { context, page };
}

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core's WCAG 2.1 A/AA rules on the page as it is; only serious and critical violations. */
export async function axeSerious(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ content: AXE });
  const violations = await page.evaluate(async () => {
    const g = globalThis as any;
    const result = await g.axe.run(g.document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    });
    return result.violations as AxeViolation[];
  });
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({ ...v, nodes: v.nodes.slice(0, 3).map((n) => ({ target: n.target })) }));
}

export function screenshotPath(name: string): string {
  const dir = path.join(OUTPUT, "screenshots");
  mkdirSync(dir, { recursive: true });
  return path.join(dir, `${name}.png`);
}
