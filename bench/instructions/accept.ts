/**
 * Instructions per accepted connection, from the upgrade request to the welcome (warren)
 * or the open (the floor), counted by callgrind as the relay's are (main.ts). The first
 * WARMUP sockets open uninstrumented, so the code paths are compiled; then `accepts`
 * more open, IN_FLIGHT at a time, with instrumentation on until the last is welcomed.
 * Every socket stays open until the count is taken: closing has a cost of its own.
 */
import { randomUUID } from "node:crypto";
import WebSocket from "ws";
import type { Account } from "../relay/servers.js";
import { HOST } from "../relay/servers.js";
import { perUnit, startCounted, type Totals } from "./callgrind.js";

export const ACCEPT_WARMUP = 6000;
const IN_FLIGHT = 8;
type Mode = "corked" | "warren";

function open(mode: Mode, port: number, account: Account): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const url =
      mode === "warren"
        ? `ws://${HOST}:${port}/v1/ws`
        : `ws://${HOST}:${port}/?id=${account.id}&device=${randomUUID()}`;
    const headers: Record<string, string> =
      mode === "warren" ? { authorization: `Bearer ${account.token}` } : {};
    const ws = new WebSocket(url, ["warren.v2"], { headers, perMessageDeflate: false });
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade answered ${res.statusCode}`)));
    if (mode === "corked") ws.once("open", () => resolve(ws));
    else ws.once("message", () => resolve(ws));
  });
}

async function openAll(mode: Mode, port: number, accounts: Account[], into: WebSocket[]): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < accounts.length) into.push(await open(mode, port, accounts[next++] as Account));
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
}

/** Instructions per accept: `accounts` holds ACCEPT_WARMUP more than are measured. */
export async function measureAccepts(
  mode: Mode,
  file: string,
  accounts: Account[],
  dataDir: string,
  keep: string | undefined,
): Promise<Totals> {
  const server = await startCounted(file, dataDir, keep);
  const sockets: WebSocket[] = [];
  try {
    await openAll(mode, server.port, accounts.slice(0, ACCEPT_WARMUP), sockets);
    // What the warm-up's accepts left to do after their welcomes (presence, analytics) settles.
    await new Promise((r) => setTimeout(r, 3000));
    server.instrument(true);
    await openAll(mode, server.port, accounts.slice(ACCEPT_WARMUP), sockets);
    server.instrument(false);
    for (const ws of sockets) ws.terminate();
    return perUnit(await server.finish(), accounts.length - ACCEPT_WARMUP);
  } finally {
    server.dispose();
  }
}
