import type { Client } from "@warren/sdk";
import { parseEndpoint } from "./endpoint.js";
import {
  createPathManager,
  type Offer,
  type PathManager,
  type PathsStatus,
  type PeerInfo,
} from "./nat/paths.js";
import { pathReport, savePaths } from "./nat/paths-file.js";
import type { RelayClient } from "./nat/relay-client.js";
import type { NetworkState } from "./state.js";

/** Where WireGuard listens when a forwarder owns the listen port: a port 10000 away. */
export function wireGuardPortFor(listenPort: number): number {
  return listenPort + 10_000 <= 65_535 ? listenPort + 10_000 : listenPort - 10_000;
}

export interface ForwardersOptions {
  client: Client;
  server: string;
  deviceId: string;
  relay: RelayClient;
  signal(peer: PeerInfo, offer: Offer): void;
  /** `--endpoint`, if given */
  endpoint?: string;
  /** interface name prefix: those interfaces' addresses are no candidates */
  prefix: string;
  /** where paths.json goes */
  stateDir?: string;
  /** the network's state while it is up; undefined once it is gone */
  entryOf(networkId: string): NetworkState | undefined;
  log(line: string): void;
}

/**
 * The NAT forwarders of the daemon's interfaces (nat/paths.ts), one per network: each
 * owns the network's UDP listen port, WireGuard sits on loopback behind it. This keeps
 * them, routes relayed packets and offers to them, and writes paths.json and the path
 * reports to the server when a pair's path or reason changed.
 */
export function createForwarders(o: ForwardersOptions) {
  const managers = new Map<string, PathManager>();
  const starting = new Map<string, Promise<PathManager>>();
  const reported = new Map<string, string>();
  const early = new Map<string, { packet: Buffer; at: number }>();
  let timer: NodeJS.Timeout | undefined;
  let dirty = false;

  /** The forwarder of a network's interface, started once, on first use. */
  function managerFor(entry: NetworkState): Promise<PathManager> {
    let start = starting.get(entry.network_id);
    const had = managers.get(entry.network_id);
    if (had && !start) return Promise.resolve(had);
    if (!start) {
      start = startManager(entry).finally(() => starting.delete(entry.network_id));
      starting.set(entry.network_id, start);
    }
    return start;
  }

  async function startManager(entry: NetworkState): Promise<PathManager> {
    const given = o.endpoint === undefined ? undefined : parseEndpoint(o.endpoint);
    const manager = createPathManager({
      networkId: entry.network_id,
      deviceId: o.deviceId,
      listenPort: entry.listen_port,
      wgPort: wireGuardPortFor(entry.listen_port),
      serverHost: await serverAddress(),
      relay: o.relay,
      fixed: given ? { host: given.host, port: given.port ?? entry.listen_port } : undefined,
      interfacePrefix: o.prefix,
      signal: o.signal,
      onChange: () => {
        dirty = true;
      },
      log: (line) => o.log(`${entry.network_name}: ${line}`),
    });
    // Registered before it starts: offers that arrive meanwhile wait in it for their peer.
    managers.set(entry.network_id, manager);
    try {
      await manager.start();
    } catch (err) {
      manager.close();
      managers.delete(entry.network_id);
      throw err;
    }
    timer ??= setInterval(writePaths, 1_000);
    return manager;
  }

  async function serverAddress(): Promise<string> {
    const host = new URL(o.server).hostname.replace(/^\[|\]$/g, "");
    const { lookup } = await import("node:dns/promises");
    return (await lookup(host, { family: 4 })).address;
  }

  function status(): Record<string, PathsStatus> {
    const networks: Record<string, PathsStatus> = {};
    for (const [id, m] of managers) networks[id] = m.status();
    return networks;
  }

  /** paths.json, and a report to the server when a pair's path or reason changed. */
  function writePaths(): void {
    if (!dirty) return;
    dirty = false;
    const networks = status();
    savePaths({ device_id: o.deviceId, updated_at: new Date().toISOString(), networks }, o.stateDir);
    for (const [id, paths] of Object.entries(networks)) {
      const entry = o.entryOf(id);
      if (!entry) continue;
      const { body, key } = pathReport(paths);
      if (reported.get(id) === key) continue;
      reported.set(id, key);
      o.client.peers.reportPaths(entry.peer_id, body).catch((err: Error) => {
        // Tried again with the next change, or in half a minute.
        reported.delete(id);
        setTimeout(() => {
          dirty = true;
        }, 30_000).unref();
        o.log(`${entry.network_name}: path report failed: ${err.message}`);
      });
    }
  }

  /** Packets from devices no network knew yet, handed over at the next sync. */
  function deliverEarly(manager: PathManager): void {
    for (const [device, { packet, at }] of early) {
      if (Date.now() - at > 5_000) early.delete(device);
      else if (manager.fromRelay(device, packet)) early.delete(device);
    }
  }

  return {
    managerFor,
    deliverEarly,
    status,
    /** The network is gone: its forwarder closes and frees the port. */
    close(networkId: string): void {
      managers.get(networkId)?.close();
      managers.delete(networkId);
      dirty = true;
    },
    /** A peer's offer of candidates, through the hub. */
    onOffer(fromDevice: string, offer: Offer): void {
      managers.get(offer.network)?.onOffer(fromDevice, offer);
    },
    /**
     * A packet through the relay: the first network holding that device takes it. One
     * from a device no network knows yet (its peer_added is still on the way) is kept for
     * a few seconds and handed over at the next sync: it is usually a handshake
     * initiation, and WireGuard would send the next one only 5 s later.
     */
    fromRelay(device: string, packet: Buffer): void {
      for (const m of managers.values()) if (m.fromRelay(device, packet)) return;
      if (early.size >= 64) early.delete(early.keys().next().value as string);
      early.set(device, { packet, at: Date.now() });
    },
    relayRefused(device: string, reason: string): void {
      for (const m of managers.values()) m.refused(device, reason);
    },
    /** Last paths.json, then every forwarder closes. */
    stop(): void {
      clearInterval(timer);
      dirty = true;
      writePaths();
      for (const m of managers.values()) m.close();
      managers.clear();
    },
  };
}

export type Forwarders = ReturnType<typeof createForwarders>;
