import type { InterfaceStatus } from "../wg/backend.js";
import type { PathsStatus } from "./nat/paths.js";
import type { NetworkState } from "./state.js";

/**
 * What `warren status` shows, in the API's snake_case: the running daemon answers it
 * over its control socket; with no daemon, the command builds it from daemon.json and
 * the interfaces themselves.
 */
export interface StatusView {
  daemon: { running: boolean; pid: number | null };
  /** networks the daemon waits to be admitted to (a join request pending approval) */
  waiting: { network_id: string; network_name: string }[];
  networks: NetworkView[];
}

export type NetworkView = NetworkState & {
  /** the interface as the WireGuard backend reads it; null when it does not exist */
  status: ReturnType<typeof snakeStatus> | null;
  /** the forwarder's view of each pair (NAT traversal only) */
  paths: PathsStatus | null;
};

export function snakeStatus(s: InterfaceStatus) {
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

export type PeerView = ReturnType<typeof snakeStatus>["peers"][number];

export function networkView(
  entry: NetworkState,
  status: InterfaceStatus | null,
  paths: PathsStatus | null,
): NetworkView {
  return { ...entry, status: status && snakeStatus(status), paths };
}
