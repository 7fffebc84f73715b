export * from "./audit.js";
export * from "./auth.js";
export * from "./chat.js";
export * from "./common.js";
export * from "./devices.js";
export * from "./me.js";
export * from "./networks.js";
export * from "./tenants.js";
