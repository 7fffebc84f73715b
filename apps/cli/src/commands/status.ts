import { Command } from "commander";
import { action, finish } from "../action.js";
import type { PathsStatus, PeerPathStatus } from "../daemon/nat/paths.js";
import { loadPaths } from "../daemon/nat/paths-file.js";
import { isRunning, loadState } from "../daemon/state.js";
import { emit, table } from "../output.js";
import { createBackend, type InterfaceStatus, type PeerStatus } from "../wg/backend.js";
import { systemRunner } from "../wg/runner.js";

/** `warren status`: the networks `warren up` manages, read back from the interfaces (`wg show`). */
export function statusCommand(): Command {
  const status = new Command("status")
    .description(
      "networks, addresses, peers, their paths (direct or relay, and why), last handshake and bytes",
    )
    .action(
      action(async (_args, opts) => {
        const state = loadState();
        const running = isRunning(state?.pid);
        // Paths are the running daemon's view; a stopped daemon's file says nothing now.
        const paths = running ? loadPaths() : undefined;
        const backend = createBackend(systemRunner());
        const networks = await Promise.all(
          Object.values(state?.networks ?? {}).map(async (n) => ({
            ...n,
            status: await backend.status(n.interface),
            paths: paths?.networks[n.network_id] ?? null,
          })),
        );
        const daemon = { running, pid: running ? state?.pid : null };
        const json = {
          daemon,
          networks: networks.map((n) => ({ ...n, status: n.status && snakeStatus(n.status) })),
        };
        emit(opts.json, json, () => {
          const lines = [running ? `daemon running (pid ${daemon.pid})` : "daemon not running"];
          if (networks.length === 0) lines.push("no networks are up: run `warren up`");
          for (const n of networks) {
            lines.push(
              "",
              `${n.network_name}  ${n.interface}  ${n.address}${n.status ? "" : "  (interface missing)"}`,
            );
            if (n.paths) lines.push(`  ${natLine(n.paths)}`);
            lines.push(...peerLines(n.status, n.paths).map((l) => `  ${l}`));
          }
          return lines.join("\n");
        });
      }),
    );
  return finish(status);
}

/** status --json speaks the API's snake_case. */
function snakeStatus(s: InterfaceStatus) {
  return {
    name: s.name,
    public_key: s.publicKey,
    listen_port: s.listenPort,
    addresses: s.addresses,
    peers: s.peers.map((p) => ({
      public_key: p.publicKey,
      endpoint: p.endpoint,
      allowed_ips: p.allowedIps,
      latest_handshake: p.latestHandshake?.toISOString() ?? null,
      rx_bytes: p.rxBytes,
      tx_bytes: p.txBytes,
    })),
  };
}

const NAT_WORDS: Record<string, string> = {
  none: "public address (no NAT)",
  cone: "NAT with one mapping for every destination (hole punching works)",
  symmetric: "symmetric NAT (a new mapping per destination)",
  "udp-blocked": "UDP blocked (relay only)",
  unknown: "unknown (no STUN answer yet)",
};

function natLine(p: PathsStatus): string {
  const home = p.home_relay ? `; home relay ${p.home_relay}` : "";
  return `this device: ${NAT_WORDS[p.nat] ?? p.nat}${home}`;
}

function peerLines(status: InterfaceStatus | null, paths: PathsStatus | null): string[] {
  if (!status) return [];
  if (status.peers.length === 0) return ["no peers"];
  const byKey = new Map<string, PeerPathStatus>((paths?.peers ?? []).map((p) => [p.public_key, p]));
  const pathOf = (p: PeerStatus) => byKey.get(p.publicKey);
  return table<PeerStatus>(status.peers, [
    { header: "peer", value: (p) => p.allowedIps },
    { header: "name", value: (p) => pathOf(p)?.name ?? "" },
    { header: "path", value: (p) => pathOf(p)?.path ?? "" },
    {
      header: "endpoint",
      value: (p) => {
        const path = pathOf(p);
        if (!path) return p.endpoint;
        return path.path === "direct"
          ? `${path.endpoint} (${path.local_candidate})`
          : `relay ${path.relay_instance ?? ""}`;
      },
    },
    { header: "reason", value: (p) => pathOf(p)?.reason ?? "" },
    { header: "handshake", value: (p) => (p.latestHandshake ? `${ago(p.latestHandshake)} ago` : "never") },
    { header: "received", value: (p) => bytes(p.rxBytes) },
    { header: "sent", value: (p) => bytes(p.txBytes) },
  ]).split("\n");
}

function ago(when: Date): string {
  const s = Math.max(0, Math.round((Date.now() - when.getTime()) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
}

function bytes(n: number): string {
  return n < 1024
    ? `${n} B`
    : n < 1024 ** 2
      ? `${(n / 1024).toFixed(1)} KiB`
      : `${(n / 1024 ** 2).toFixed(1)} MiB`;
}
