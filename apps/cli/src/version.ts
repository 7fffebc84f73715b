/** The client's release version: `warren --version` and the client pack's package.json. */
export const CLI_VERSION = "0.1.0";
