import type { Client } from "@warren/sdk";
import { WarrenError } from "@warren/sdk";
import type { Credentials } from "../store/credentials.js";
import { loadDevice } from "../store/device.js";
import type { WireGuardBackend } from "../wg/backend.js";
import { interfaceName, specFromConfig } from "../wg/export.js";
import { endpointText, localAddressTowards, parseEndpoint } from "./endpoint.js";
import { createPathManager, type Offer, type PathManager, type PeerInfo } from "./nat/paths.js";
import { pathReport, savePaths } from "./nat/paths-file.js";
import type { RelayClient } from "./nat/relay-client.js";
import { type DaemonState, loadState, type NetworkState, nextListenPort, saveState } from "./state.js";

/**
 * The daemon behind `warren up`: one WireGuard interface per network, kept equal to
 * the server's view of that network. Every change (an event over the hub, a reconnect,
 * a periodic check) leads to the same step: read the device's config from REST and
 * hand the whole desired state to the backend, which runs only the commands needed
 * (`wg set`, never down/up). Missed events therefore cannot leave a tunnel wrong.
 */
export interface DaemonOptions {
  client: Client;
  credentials: Credentials;
  deviceId: string;
  backend: WireGuardBackend;
  /** interface names are prefix + 8 hex digits of the network id */
  prefix: string;
  /** "host", "host:port" or "[v6]:port" others reach this device at; default: the local address towards the server */
  endpoint?: string;
  /** the first UDP listen port; each further network takes the next free one */
  firstPort?: number;
  /**
   * NAT traversal: a forwarder per interface owns the listen port, WireGuard sits on
   * loopback behind it, and pairs go direct or through this relay. Absent: WireGuard
   * listens on the port itself and peers dial the reported endpoint (LAN, public hosts).
   */
  paths?: { relay: RelayClient; signal(peer: PeerInfo, offer: Offer): void };
  log: (line: string) => void;
}

/** Where WireGuard listens when a forwarder owns the listen port: a port 10000 away. */
export function wireGuardPortFor(listenPort: number): number {
  return listenPort + 10_000 <= 65_535 ? listenPort + 10_000 : listenPort - 10_000;
}

export interface NetworkTarget {
  id: string;
  name: string;
  tenant_id: string;
}

export function createDaemon(options: DaemonOptions) {
  const { client, credentials, backend, log } = options;
  const server = credentials.server;
  const userId = credentials.user.id;
  const state: DaemonState = initialState();
  const running = new Map<string, Promise<void>>();
  const again = new Set<string>();
  const waiting = new Map<string, NetworkTarget>();
  const announced = new Set<string>();
  const managers = new Map<string, PathManager>();
  const starting = new Map<string, Promise<PathManager>>();
  let stopped = false;
  let pathsTimer: NodeJS.Timeout | undefined;
  let pathsDirty = false;
  const reported = new Map<string, string>();
  const early = new Map<string, { packet: Buffer; at: number }>();

  function initialState(): DaemonState {
    const old = loadState();
    const same = old && old.server === server && old.user_id === userId && old.device_id === options.deviceId;
    return {
      pid: process.pid,
      server,
      user_id: userId,
      device_id: options.deviceId,
      networks: same ? old.networks : {},
    };
  }

  const save = () => saveState(state);

  /**
   * The key from the local store, read at every sync. During `warren devices rotate-key`
   * the store holds the new pair as next_* before the server has it; once the server has
   * it (its peer_updated may arrive before that command saves), the new pair is ours.
   */
  const privateKey = async (): Promise<string> => {
    const device = loadDevice(server, userId);
    if (!device || device.device_id !== options.deviceId) {
      throw new Error("this device's key is missing from the local key store");
    }
    if (device.next_private_key && device.next_public_key) {
      const remote = await client.devices.get(options.deviceId);
      if (remote.public_key === device.next_public_key) return device.next_private_key;
    }
    return device.private_key;
  };

  async function endpointFor(entry: NetworkState): Promise<string> {
    const given = options.endpoint === undefined ? undefined : parseEndpoint(options.endpoint);
    const host = given?.host ?? (await localAddressTowards(server));
    return endpointText(host, given?.port ?? entry.listen_port);
  }

  /** Joins the network and adds this device as a peer when needed; false while approval is pending. */
  async function join(target: NetworkTarget): Promise<boolean> {
    if (state.networks[target.id]) return true;
    const device = await client.devices.get(options.deviceId);
    let peerId = device.networks.find((n) => n.network_id === target.id)?.peer_id;
    if (!peerId) {
      const network = await client.networks.get(target.id);
      let status = network.my_status;
      if (status === null) status = (await client.networks.join(target.id)).status;
      if (status === "pending") {
        log(`${target.name}: waiting for a moderator to approve the join request`);
        waiting.set(target.id, target);
        return false;
      }
      peerId = (await client.networks.addPeer(target.id, options.deviceId)).id;
    }
    waiting.delete(target.id);
    state.networks[target.id] = {
      network_id: target.id,
      network_name: target.name,
      tenant_id: target.tenant_id,
      peer_id: peerId,
      interface: interfaceName(target.id, options.prefix),
      address: "",
      cidr: "",
      listen_port: nextListenPort(state, options.firstPort),
    };
    save();
    return true;
  }

  async function syncNow(networkId: string): Promise<void> {
    const entry = state.networks[networkId];
    if (!entry) return;
    let config: Awaited<ReturnType<Client["peers"]["configJson"]>>;
    try {
      config = await client.peers.configJson(entry.peer_id);
    } catch (err) {
      if (err instanceof WarrenError && err.code === "not_found") {
        await teardown(networkId, "this device is no longer in the network");
        return;
      }
      throw err;
    }
    if (!state.networks[networkId]) return;
    const manager = options.paths ? await managerFor(entry) : undefined;
    const spec = specFromConfig(
      config,
      await privateKey(),
      entry.interface,
      manager ? wireGuardPortFor(entry.listen_port) : entry.listen_port,
    );
    if (manager) {
      const listed = (await client.networks.peers(networkId)).peers;
      const infos: PeerInfo[] = [];
      for (const p of listed) {
        if (p.device_id === options.deviceId) continue;
        infos.push({ publicKey: p.public_key, deviceId: p.device_id, userId: p.user_id, name: p.name });
      }
      const endpoints = await manager.setPeers(infos);
      for (const peer of spec.peers) peer.endpoint = endpoints.get(peer.publicKey) ?? null;
    }
    const result = await backend.apply(spec);
    if (manager) deliverEarly(manager);
    if (!announced.has(networkId)) {
      announced.add(networkId);
      log(
        `${entry.network_name}: ${entry.interface} up at ${spec.address}${result.created ? "" : " (was up)"}`,
      );
    }
    const changed = entry.address !== spec.address || entry.cidr !== spec.cidr;
    entry.address = spec.address;
    entry.cidr = spec.cidr;
    entry.network_name = config.interface.network_name;
    if (changed) save();
    // A new interface may listen elsewhere than before; start() and reconnects report the rest.
    if (result.created) await reportEndpoint(entry);
  }

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
    const paths = options.paths as NonNullable<DaemonOptions["paths"]>;
    const given = options.endpoint === undefined ? undefined : parseEndpoint(options.endpoint);
    const manager = createPathManager({
      networkId: entry.network_id,
      deviceId: options.deviceId,
      listenPort: entry.listen_port,
      wgPort: wireGuardPortFor(entry.listen_port),
      serverHost: await serverAddress(),
      relay: paths.relay,
      fixed: given ? { host: given.host, port: given.port ?? entry.listen_port } : undefined,
      interfacePrefix: options.prefix,
      signal: paths.signal,
      onChange: () => {
        pathsDirty = true;
      },
      log: (line) => log(`${entry.network_name}: ${line}`),
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
    pathsTimer ??= setInterval(writePaths, 1_000);
    return manager;
  }

  async function serverAddress(): Promise<string> {
    const host = new URL(server).hostname.replace(/^\[|\]$/g, "");
    const { lookup } = await import("node:dns/promises");
    return (await lookup(host, { family: 4 })).address;
  }

  /** paths.json for `warren status`, and a report to the server when a pair's path or reason changed. */
  function writePaths(): void {
    if (!pathsDirty) return;
    pathsDirty = false;
    const networks: Record<string, ReturnType<PathManager["status"]>> = {};
    for (const [id, m] of managers) networks[id] = m.status();
    savePaths({ device_id: options.deviceId, updated_at: new Date().toISOString(), networks });
    for (const [id, status] of Object.entries(networks)) {
      const entry = state.networks[id];
      if (!entry) continue;
      const { body, key } = pathReport(status);
      if (reported.get(id) === key) continue;
      reported.set(id, key);
      client.peers.reportPaths(entry.peer_id, body).catch((err: Error) => {
        // Tried again with the next change, or in half a minute.
        reported.delete(id);
        setTimeout(() => {
          pathsDirty = true;
        }, 30_000).unref();
        log(`${entry.network_name}: path report failed: ${err.message}`);
      });
    }
  }

  /** A peer's offer of candidates, through the hub. */
  function onOffer(fromDevice: string, offer: Offer): void {
    managers.get(offer.network)?.onOffer(fromDevice, offer);
  }

  /**
   * A packet through the relay: the first network holding that device takes it. One from
   * a device no network knows yet (its peer_added is still on the way) is kept for a few
   * seconds and handed over at the next sync: it is usually a handshake initiation, and
   * WireGuard would send the next one only 5 s later.
   */
  function fromRelay(device: string, packet: Buffer): void {
    for (const m of managers.values()) if (m.fromRelay(device, packet)) return;
    if (early.size >= 64) early.delete(early.keys().next().value as string);
    early.set(device, { packet, at: Date.now() });
  }

  function deliverEarly(manager: PathManager): void {
    for (const [device, { packet, at }] of early) {
      if (Date.now() - at > 5_000) early.delete(device);
      else if (manager.fromRelay(device, packet)) early.delete(device);
    }
  }

  function relayRefused(device: string, reason: string): void {
    for (const m of managers.values()) m.refused(device, reason);
  }

  async function reportEndpoint(entry: NetworkState): Promise<void> {
    const endpoint = await endpointFor(entry);
    await client.peers.setEndpoint(entry.peer_id, endpoint);
  }

  /** Runs one sync per network at a time; a request during a run makes one more run after it. */
  function sync(networkId: string): Promise<void> {
    const current = running.get(networkId);
    if (current) {
      again.add(networkId);
      return current;
    }
    const run = (async () => {
      try {
        do {
          again.delete(networkId);
          await syncNow(networkId);
        } while (again.has(networkId) && !stopped);
      } catch (err) {
        log(
          `${state.networks[networkId]?.network_name ?? networkId}: sync failed: ${(err as Error).message}`,
        );
      } finally {
        running.delete(networkId);
      }
    })();
    running.set(networkId, run);
    return run;
  }

  async function teardown(networkId: string, reason: string): Promise<void> {
    const entry = state.networks[networkId];
    if (!entry) return;
    delete state.networks[networkId];
    announced.delete(networkId);
    managers.get(networkId)?.close();
    managers.delete(networkId);
    pathsDirty = true;
    save();
    await backend.remove(entry.interface);
    log(`${entry.network_name}: removed ${entry.interface}: ${reason}`);
  }

  async function start(targets: NetworkTarget[]): Promise<void> {
    // The first sync runs unguarded: no permission, no wireguard-go or a clash ends `up` here.
    for (const target of targets) {
      if (await join(target)) await syncNow(target.id);
    }
    save();
    await reportAll();
  }

  async function resyncAll(): Promise<void> {
    for (const target of [...waiting.values()]) {
      if (await join(target).catch(() => false)) await sync(target.id);
    }
    await Promise.all(Object.keys(state.networks).map((id) => sync(id)));
  }

  async function reportAll(): Promise<void> {
    for (const entry of Object.values(state.networks)) {
      await reportEndpoint(entry).catch((err) => log(`${entry.network_name}: ${(err as Error).message}`));
    }
  }

  /** `warren down <network>` removed an interface and edited the state file: forget it here. */
  function reload(): void {
    const onDisk = loadState();
    for (const id of Object.keys(state.networks)) {
      if (!onDisk?.networks[id]) delete state.networks[id];
    }
    save();
  }

  async function stop(): Promise<void> {
    stopped = true;
    await Promise.allSettled([...running.values()]);
    clearInterval(pathsTimer);
    pathsDirty = true;
    writePaths();
    for (const m of managers.values()) m.close();
    managers.clear();
    state.pid = null;
    save();
  }

  return {
    state,
    start,
    sync,
    teardown,
    resyncAll,
    reportAll,
    reload,
    stop,
    waiting,
    userId,
    onOffer,
    fromRelay,
    relayRefused,
  };
}

export type Daemon = ReturnType<typeof createDaemon>;
