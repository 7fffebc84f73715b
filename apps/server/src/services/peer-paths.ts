import type { NetworkPeer, PeerPathReport, PeerPathsBody } from "@warren/protocol";
import type { Bus } from "../bus/bus.js";
import { topics } from "../bus/topics.js";
import { AppError } from "../errors.js";
import { nowIso } from "./context.js";
import { createNetworkEvents } from "./networks.js";

interface Repos {
  peers: {
    getOwned(
      peerId: string,
      userId: string,
    ): Promise<{ id: string; network_id: string; device_id: string } | undefined>;
  };
  peerPaths: {
    put(peerId: string, networkId: string, report: string, at: string): Promise<void>;
    ofNetwork(networkId: string): Promise<{ peer_id: string; report: string; updated_at: string }[]>;
  };
}

/**
 * The paths devices report to their peers (direct or relay, and why): the latest report
 * per peer is kept, shown with the network's peers and announced as peer.path, so the
 * dashboard can answer "why is this relayed?".
 */
export function createPeerPaths({ repos, bus }: { repos: Repos; bus: Bus }) {
  const events = createNetworkEvents(bus);
  return {
    /** PUT /peers/:id/paths: only the device's owner reports for it. */
    async report(userId: string, peerId: string, body: PeerPathsBody): Promise<PeerPathReport> {
      const peer = await repos.peers.getOwned(peerId, userId);
      if (!peer) throw new AppError("not_found", "No such peer");
      const at = nowIso();
      const report: PeerPathReport = { nat: body.nat, paths: body.paths, updated_at: at };
      await repos.peerPaths.put(
        peer.id,
        peer.network_id,
        JSON.stringify({ nat: body.nat, paths: body.paths }),
        at,
      );
      await events.frame(topics.network(peer.network_id), {
        type: "peer.path",
        network_id: peer.network_id,
        peer_id: peer.id,
        device_id: peer.device_id,
        report,
      });
      return report;
    },

    /** The network's peers with their latest reports (the caller checked access). */
    async attach(networkId: string, list: { peers: NetworkPeer[] }): Promise<{ peers: NetworkPeer[] }> {
      const rows = await repos.peerPaths.ofNetwork(networkId);
      const byPeer = new Map(rows.map((r) => [r.peer_id, r]));
      return {
        peers: list.peers.map((p) => {
          const row = byPeer.get(p.id);
          // Absent (not null) before the first report: peers look as they always did.
          if (!row) return p;
          const saved = JSON.parse(row.report) as Omit<PeerPathReport, "updated_at">;
          return { ...p, path_report: { ...saved, updated_at: row.updated_at } };
        }),
      };
    },
  };
}

export type PeerPaths = ReturnType<typeof createPeerPaths>;
