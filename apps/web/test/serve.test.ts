import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Fastify from "fastify";
import { afterAll, describe, expect, it } from "vitest";
import { registerWeb } from "../../server/src/plugins/web.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A tiny export: the shape `next build` leaves in out/. */
function fakeExport(): string {
  const root = mkdtempSync(path.join(tmpdir(), "warren-web-"));
  dirs.push(root);
  mkdirSync(path.join(root, "network"), { recursive: true });
  mkdirSync(path.join(root, "_next/static/chunks"), { recursive: true });
  writeFileSync(path.join(root, "index.html"), "<!doctype html><title>home</title>");
  writeFileSync(path.join(root, "network/index.html"), "<!doctype html><title>network</title>");
  writeFileSync(path.join(root, "_next/static/chunks/app-1234.js"), "console.log(1)");
  return root;
}

async function app(root: string) {
  const fastify = Fastify();
  fastify.get("/v1/ping", async () => ({ pong: true }));
  await registerWeb(fastify, root);
  await fastify.ready();
  return fastify;
}

describe("the server's dashboard plugin", () => {
  it("serves pages and assets beside the API; a deep link without its slash keeps its query", async () => {
    const fastify = await app(fakeExport());
    const home = await fastify.inject("/");
    expect(home.statusCode).toBe(200);
    expect(home.headers["cache-control"]).toBe("no-cache");
    expect((await fastify.inject("/network/?id=abc")).body).toContain("network");
    const bare = await fastify.inject("/network?id=abc");
    expect(bare.statusCode).toBe(301);
    expect(bare.headers.location).toBe("/network/?id=abc");
    const asset = await fastify.inject("/_next/static/chunks/app-1234.js");
    expect(asset.headers["cache-control"]).toContain("immutable");
    expect((await fastify.inject("/v1/ping")).json()).toEqual({ pong: true });
    expect((await fastify.inject("/no/such/page/")).statusCode).toBe(404);
    await fastify.close();
  });

  it("without a build, / says how to make one instead of failing", async () => {
    const fastify = await app(path.join(tmpdir(), "warren-web-missing"));
    const home = await fastify.inject("/");
    expect(home.statusCode).toBe(200);
    expect(home.body).toContain("npm run build:web");
    await fastify.close();
  });
});
