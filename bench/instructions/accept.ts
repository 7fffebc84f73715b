/**
 * Instructions per accepted connection, from the upgrade request to the welcome (warren)
 * or the open (the floor), counted by callgrind as the relay's are (main.ts). The first
 * ACCEPT_WARMUP sockets open uninstrumented, so the code paths are compiled; then the
 * rest open, IN_FLIGHT at a time, with instrumentation on until the last is welcomed.
 * Every socket stays open until the count is taken: closing has a cost of its own.
 */
import type WebSocket from "ws";
import type { Account } from "../relay/servers.js";
import { type Mode, openSocket, perUnit, startCounted, type Totals } from "./callgrind.js";

export const ACCEPT_WARMUP = 6000;
const IN_FLIGHT = 8;

async function openAll(mode: Mode, port: number, accounts: Account[], into: WebSocket[]): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < accounts.length) into.push(await openSocket(mode, port, accounts[next++] as Account));
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
