/** The server's release version: `warren-server --version` and the packs' package.json. */
export const SERVER_VERSION = "0.1.0";
