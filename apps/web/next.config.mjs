import { PHASE_DEVELOPMENT_SERVER } from "next/constants.js";

/**
 * The dashboard is a static export (out/) that the warren server serves at "/". Ids
 * travel in the query string (/network/?id=…), so every route is one prerendered page
 * and deep links survive a reload without a server-side fallback.
 *
 * `npm run dev:web` (next dev, hot reload) instead proxies the API, /stats and the hub
 * socket to a running server: WARREN_API, default http://127.0.0.1:8080.
 */
export default function config(phase) {
  const dev = phase === PHASE_DEVELOPMENT_SERVER;
  const api = (process.env.WARREN_API ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
  /** @type {import("next").NextConfig} */
  const base = {
    trailingSlash: true,
    reactStrictMode: true,
    images: { unoptimized: true },
    poweredByHeader: false,
    // The workspace packages ship TypeScript source.
    transpilePackages: ["@warren/sdk", "@warren/protocol"],
    // Type-checking is `npm run typecheck`'s job (tsconfig.json here), once, not the build's.
    typescript: { ignoreBuildErrors: true },
    webpack(webpackConfig) {
      // The packages are NodeNext ESM: their imports name "./x.js" for the file x.ts.
      webpackConfig.resolve.extensionAlias = { ".js": [".ts", ".tsx", ".js"] };
      return webpackConfig;
    },
  };
  if (!dev) return { ...base, output: "export" };
  return {
    ...base,
    // API paths have no trailing slash: proxy them as they are.
    skipTrailingSlashRedirect: true,
    async rewrites() {
      return [
        { source: "/v1/:path*", destination: `${api}/v1/:path*` },
        { source: "/stats", destination: `${api}/stats` },
      ];
    },
  };
}
