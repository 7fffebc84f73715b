export * from "./client-frames.js";
export * from "./close-codes.js";
export * from "./frame-names.js";
export * from "./packet-frames.js";
export * from "./relay-frame-check.js";
export * from "./server-frames.js";
