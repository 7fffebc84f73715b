import type { Tokens } from "@warren/protocol";
import { type Client, createClient } from "@warren/sdk";

const TOKENS_KEY = "warren.tokens";

function readTokens(): Tokens | undefined {
  try {
    const text = window.localStorage.getItem(TOKENS_KEY);
    return text ? (JSON.parse(text) as Tokens) : undefined;
  } catch {
    return undefined;
  }
}

function writeTokens(tokens: Tokens | undefined): void {
  if (tokens) window.localStorage.setItem(TOKENS_KEY, JSON.stringify(tokens));
  else window.localStorage.removeItem(TOKENS_KEY);
}

let client: Client | undefined;
const listeners = new Set<(signedIn: boolean) => void>();

/**
 * The page's one SDK client, on the origin that served the page (the server serves the
 * dashboard and the API together). Tokens live in localStorage, so a reload stays signed
 * in; every token change is written back and announced.
 */
export function getClient(): Client {
  client ??= createClient({
    baseUrl: process.env.NEXT_PUBLIC_WARREN_API ?? window.location.origin,
    tokens: readTokens(),
    onTokens(tokens) {
      writeTokens(tokens);
      for (const l of listeners) l(tokens !== undefined);
    },
  });
  return client;
}

export function onSignedInChange(listener: (signedIn: boolean) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Forgets the tokens without asking the server (the session is already gone). */
export function dropTokens(): void {
  writeTokens(undefined);
  client = undefined;
  for (const l of listeners) l(false);
}
