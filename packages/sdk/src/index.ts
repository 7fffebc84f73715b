export { type Client, type ClientOptions, createClient } from "./client.js";
export { type Ed25519KeyPair, ed25519FromSecret, generateEd25519, signChallenge } from "./crypto/ed25519.js";
export { WarrenError } from "./errors.js";
