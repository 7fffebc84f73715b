export * from "./client-frames.js";
export * from "./close-codes.js";
export * from "./server-frames.js";
