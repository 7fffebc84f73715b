/**
 * The dashboard is a static export (out/) that the warren server serves at "/". Ids
 * travel in the query string (/network/?id=…), so every route is one prerendered page
 * and deep links survive a reload without a server-side fallback.
 * @type {import("next").NextConfig}
 */
const config = {
  output: "export",
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

export default config;
