import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";

/** Where `npm run build:web` puts the dashboard's static export. */
export const WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../web/out");

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>warren</title></head>
<body><main><h1>warren</h1><p>The web dashboard is not built. Run <code>npm run build:web</code>
(or <code>npm start</code>, which builds it when it is missing) and reload.</p>
<p>The API is at <a href="/docs">/docs</a>.</p></main></body></html>`;

/**
 * The web dashboard (apps/web, a static export) at "/". Routes registered before it
 * (/v1, /docs, /health, /metrics, /stats) win over its wildcard, and a path with no file
 * falls through to the JSON 404. Pages carry ids in the query string, so every page is
 * one file and a reload of a deep link finds it. Hashed assets under /_next/static are
 * cached for good; pages are revalidated on every load so a new build shows at once.
 */
export async function registerWeb(app: FastifyInstance, root: string = WEB_ROOT): Promise<void> {
  if (!existsSync(path.join(root, "index.html"))) {
    app.get("/", { schema: { hide: true } }, async (_request, reply) =>
      reply.type("text/html; charset=utf-8").send(NOT_BUILT),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: "/",
    wildcard: true,
    redirect: true,
    index: "index.html",
    decorateReply: false,
    cacheControl: false,
    setHeaders(reply, file) {
      reply.header(
        "cache-control",
        file.includes(`${path.sep}_next${path.sep}static${path.sep}`)
          ? "public, max-age=31536000, immutable"
          : "no-cache",
      );
    },
  });
}
