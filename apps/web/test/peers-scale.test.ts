import { writeFileSync } from "node:fs";
import path from "node:path";
import { x25519 } from "@noble/curves/ed25519.js";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sqliteBackend } from "../../server/test/helpers/backends.js";
import { register, type TestServer } from "../../server/test/helpers/server.js";
import { CHROMIUM, launch, newUser, OUTPUT, startDashboard } from "./helpers/browser.js";

const PEERS = 1000;
const UPDATES_PER_SECOND = 100;
const UPDATE_SECONDS = 3;

async function inBatches<T>(items: T[], size: number, run: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

/**
 * A network page with a thousand peers, in Chromium: how long until every row is on
 * screen, and whether a hundred peer changes a second (real peer.updated frames from the
 * server) freeze it. The figures are printed and written to test-output/peers-scale.json.
 */
describe.skipIf(!CHROMIUM)("network page at scale", () => {
  let server: TestServer;
  let browser: Browser;
  let token = "";
  let tokens: unknown;
  let networkId = "";
  const peerIds: string[] = [];

  beforeAll(async () => {
    server = await startDashboard(sqliteBackend);
    browser = await launch();
    const user = await register(server.api);
    token = user.tokens.access_token;
    tokens = user.tokens;
    const tenant = await server.api("POST", "/v1/tenants", { token, body: { name: "scale" } });
    const network = await server.api("POST", `/v1/tenants/${tenant.body.id}/networks`, {
      token,
      body: { name: "big", cidr: "10.96.0.0/21" },
    });
    networkId = network.body.id;
    await inBatches(
      Array.from({ length: PEERS }, (_, i) => i),
      25,
      async (i) => {
        const publicKey = Buffer.from(x25519.getPublicKey(x25519.utils.randomSecretKey())).toString("base64");
        const device = await server.api("POST", "/v1/devices", {
          token,
          body: { name: `device-${i}`, platform: "linux", public_key: publicKey },
        });
        const peer = await server.api("POST", `/v1/networks/${networkId}/peers`, {
          token,
          body: { device_id: device.body.id },
        });
        if (peer.status !== 201) throw new Error(`add peer: ${peer.status} ${JSON.stringify(peer.body)}`);
        peerIds.push(peer.body.id);
      },
    );
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it(`renders ${PEERS} peers and applies ${UPDATES_PER_SECOND} changes a second without freezing`, async () => {
    const { page } = await newUser(browser);
    await page.goto(`${server.url}/signin/`);
    await page.evaluate(
      (t) => (globalThis as any).localStorage.setItem("warren.tokens", JSON.stringify(t)),
      tokens,
    );

    await page.goto(`${server.url}/network/?id=${networkId}`);
    await page.waitForFunction(
      (n) => (globalThis as any).document.querySelectorAll("[data-peer]").length === n,
      PEERS,
      {
        timeout: 30_000,
        polling: "raf",
      },
    );
    const timing = await page.evaluate(() => {
      const g = globalThis as any;
      const now = g.performance.now() as number;
      const peers = (
        g.performance.getEntriesByType("resource") as { name: string; responseEnd: number }[]
      ).find((e) => /\/peers$/.test(e.name));
      return { sinceNavigation: now, sincePeersArrived: peers ? now - peers.responseEnd : null };
    });

    // Watch the frame rate while the server sends peer.updated frames at the given rate.
    await page.locator("[data-testid=hub-state][data-state=online]").waitFor();
    await page.evaluate(() => {
      const g = globalThis as any;
      g.__frames = { last: g.performance.now(), maxGap: 0, count: 0, stop: false };
      const tick = (t: number) => {
        const f = g.__frames;
        f.maxGap = Math.max(f.maxGap, t - f.last);
        f.last = t;
        f.count += 1;
        if (!f.stop) g.requestAnimationFrame(tick);
      };
      g.requestAnimationFrame(tick);
    });
    const total = UPDATES_PER_SECOND * UPDATE_SECONDS;
    const started = Date.now();
    // Every change is awaited before the server closes: none may fail, and none may be
    // left in flight to reset when the suite ends.
    const changes: Promise<{ status: number }>[] = [];
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / UPDATES_PER_SECOND;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const peer = peerIds[i % peerIds.length] as string;
      changes.push(
        server.api("PATCH", `/v1/peers/${peer}/endpoint`, {
          token,
          body: { endpoint: `198.51.100.${(i % 250) + 1}:${10000 + i}` },
        }),
      );
    }
    const lastPeer = peerIds[(total - 1) % peerIds.length] as string;
    await page.waitForFunction(
      ({ id, port }) =>
        (globalThis as any).document
          .querySelector(`[data-peer="${id}"]`)
          ?.textContent?.includes(`:${port}`) ?? false,
      { id: lastPeer, port: 10000 + total - 1 },
      { timeout: 15_000 },
    );
    const sent = Date.now() - started;
    const statuses = (await Promise.all(changes)).map((r) => r.status);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    const frames = await page.evaluate(() => {
      const g = globalThis as any;
      g.__frames.stop = true;
      return { maxGap: g.__frames.maxGap as number, count: g.__frames.count as number };
    });

    const figures = {
      peers: PEERS,
      render_ms_since_navigation: Math.round(timing.sinceNavigation),
      render_ms_since_peers_response:
        timing.sincePeersArrived === null ? null : Math.round(timing.sincePeersArrived),
      updates: total,
      updates_per_second: Math.round((total * 1000) / sent),
      longest_frame_gap_ms: Math.round(frames.maxGap),
      frames_per_second: Math.round((frames.count * 1000) / sent),
    };
    console.log(`network page at scale: ${JSON.stringify(figures)}`);
    writeFileSync(path.join(OUTPUT, "peers-scale.json"), `${JSON.stringify(figures, null, 2)}\n`);
    // Loose bounds: CI runs this beside other suites on two cores. The figures above are
    // the record (apps/web/README.md); these catch a page that stalls outright.
    expect(figures.render_ms_since_peers_response ?? figures.render_ms_since_navigation).toBeLessThan(5000);
    expect(frames.maxGap).toBeLessThan(2000);
  });
});
