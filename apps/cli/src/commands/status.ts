import { Command } from "commander";
import { action, finish } from "../action.js";
import { askDaemon } from "../daemon/control.js";
import type { PathsStatus, PeerPathStatus } from "../daemon/nat/paths.js";
import { loadState } from "../daemon/state.js";
import { type NetworkView, networkView, type PeerView, type StatusView } from "../daemon/view.js";
import { emit, table } from "../output.js";
import { createBackend } from "../wg/backend.js";
import { systemRunner } from "../wg/runner.js";

/**
 * `warren status`: the networks `warren up` manages. A running daemon answers over its
 * control socket; with none, daemon.json and the interfaces themselves (`wg show`) tell.
 */
export function statusCommand(): Command {
  const status = new Command("status")
    .description(
      "networks, addresses, peers, their paths (direct or relay, and why), last handshake and bytes",
    )
    .action(
      action(async (_args, opts) => {
        const view = (await askDaemon<StatusView>({ command: "status" })) ?? (await withoutDaemon());
        const { daemon, networks } = view;
        emit(opts.json, view, () => {
          const lines = [daemon.running ? `daemon running (pid ${daemon.pid})` : "daemon not running"];
          for (const w of view.waiting) lines.push(`${w.network_name}: waiting for a moderator's approval`);
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

/** The view with no daemon running: what daemon.json recorded, read back from the interfaces. */
async function withoutDaemon(): Promise<StatusView> {
  const state = loadState();
  const backend = createBackend(systemRunner());
  const networks: NetworkView[] = await Promise.all(
    Object.values(state?.networks ?? {}).map(async (n) =>
      networkView(n, await backend.status(n.interface), null),
    ),
  );
  // Paths are the running daemon's view: a stopped one's say nothing now.
  return { daemon: { running: false, pid: null }, waiting: [], networks };
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

function peerLines(status: NetworkView["status"], paths: PathsStatus | null): string[] {
  if (!status) return [];
  if (status.peers.length === 0) return ["no peers"];
  const byKey = new Map<string, PeerPathStatus>((paths?.peers ?? []).map((p) => [p.public_key, p]));
  const pathOf = (p: PeerView) => byKey.get(p.public_key);
  return table<PeerView>(status.peers, [
    { header: "peer", value: (p) => p.allowed_ips },
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
    {
      header: "handshake",
      value: (p) => (p.latest_handshake ? `${ago(new Date(p.latest_handshake))} ago` : "never"),
    },
    { header: "received", value: (p) => bytes(p.rx_bytes) },
    { header: "sent", value: (p) => bytes(p.tx_bytes) },
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
