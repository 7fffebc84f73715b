/** So clients can name a schema's type (`Static<typeof Tenant>`) without depending on typebox. */
export type { Static } from "typebox";
export * from "./community-roles.js";
export * from "./errors.js";
export * from "./http/index.js";
export * from "./ids.js";
export * from "./version.js";
export * from "./wg-quick.js";
export * from "./ws/index.js";
