import { closeSync, openSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import type { Tokens } from "@warren/protocol";
import { loadCredentials, saveCredentials } from "./store/credentials.js";
import { ensureConfigDir } from "./store/paths.js";

/**
 * Refresh tokens are single-use, and presenting a used one revokes the whole session
 * (reuse detection, docs/security.md). Every `warren` process of a machine (the
 * daemon, and commands a script may run side by side) shares credentials.json, so
 * they must not refresh with the same token. This fetch, given to the SDK client,
 * serialises POST /v1/auth/refresh across processes with a lock file, and under the
 * lock looks at the disk first: if another process already refreshed, it answers
 * with those tokens (or refreshes with that process's newer refresh token).
 */

const LOCK = "refresh.lock";
/** A refresh takes well under this; an older lock was left by a process that died. */
const STALE_MS = 20_000;
const WAIT_MS = 15_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  const file = path.join(ensureConfigDir(), LOCK);
  const deadline = Date.now() + WAIT_MS;
  let held = false;
  while (!held) {
    try {
      closeSync(openSync(file, "wx", 0o600));
      held = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      try {
        if (Date.now() - statSync(file).mtimeMs > STALE_MS) rmSync(file, { force: true });
      } catch {
        // gone already
      }
      // Rather than hang forever behind a lock that will not go, go ahead unlocked.
      if (Date.now() > deadline) break;
      await sleep(50);
    }
  }
  try {
    return await fn();
  } finally {
    if (held) rmSync(file, { force: true });
  }
}

const answer = (tokens: Tokens) =>
  new Response(JSON.stringify({ tokens }), { status: 200, headers: { "content-type": "application/json" } });

/** `current` is the client's tokens (for its session id). */
export function sharedRefresh(current: () => Tokens): typeof fetch {
  return async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (init?.method !== "POST" || !url.endsWith("/v1/auth/refresh") || typeof init.body !== "string") {
      return fetch(input, init);
    }
    const sent = (JSON.parse(init.body) as { refresh_token?: string }).refresh_token;
    return withLock(async () => {
      let request = init;
      const disk = loadCredentials()?.tokens;
      if (disk && disk.session_id === current().session_id && disk.refresh_token !== sent) {
        // Another process refreshed: use its tokens, or its refresh token if they too expired.
        if (Date.parse(disk.expires_at) > Date.now() + 2_000) return answer(disk);
        request = { ...init, body: JSON.stringify({ refresh_token: disk.refresh_token }) };
      }
      const res = await fetch(input, request);
      if (res.ok) {
        // Saved before the lock is released, so the next process in line sees them.
        const { tokens } = (await res.clone().json()) as { tokens: Tokens };
        const latest = loadCredentials();
        if (latest && latest.tokens.session_id === tokens.session_id) saveCredentials({ ...latest, tokens });
      }
      return res;
    });
  };
}
