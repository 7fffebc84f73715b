import type { Client } from "@warren/sdk";
import { WarrenError } from "@warren/sdk";
import type { Credentials } from "../store/credentials.js";
import { loadDevice } from "../store/device.js";
import type { WireGuardBackend } from "../wg/backend.js";
import { interfaceName, specFromConfig } from "../wg/export.js";
import { endpointText, localAddressTowards, parseEndpoint } from "./endpoint.js";
import type { DaemonActions } from "./events.js";
import { createForwarders, wireGuardPortFor } from "./forwarders.js";
import type { Offer, PeerInfo } from "./nat/paths.js";
import type { RelayClient } from "./nat/relay-client.js";
import { type DaemonState, loadState, type NetworkState, nextListenPort, saveState } from "./state.js";
import { networkView, type StatusView } from "./view.js";

/**
 * The daemon behind `warren up`: one WireGuard interface per network, kept equal to
 * the server's view of that network. Every change (an event over the hub, a reconnect,
 * a periodic check) leads to the same step: read the device's config from REST and
 * hand the whole desired state to the backend, which runs only the commands needed
 * (`wg set`, never down/up). Missed events therefore cannot leave a tunnel wrong.
 *
 * What reaches the machine comes in as options: the WireGuard backend, and with NAT
 * traversal the relay (its forwarders own UDP ports). With the memory backend and no
 * `paths`, a daemon needs no root and touches no interface.
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
  /** where daemon.json and paths.json live; default: the config directory */
  stateDir?: string;
  log: (line: string) => void;
}

export interface NetworkTarget {
  id: string;
  name: string;
  tenant_id: string;
}

/** One network `down` took away: its interface, and whether that still existed. */
export interface Removed {
  network_id: string;
  network: string;
  interface: string;
  existed: boolean;
}

export function createDaemon(options: DaemonOptions) {
  const { client, credentials, backend, log, stateDir } = options;
  const server = credentials.server;
  const userId = credentials.user.id;
  const state: DaemonState = initialState();
  const running = new Map<string, Promise<void>>();
  const again = new Set<string>();
  const waiting = new Map<string, NetworkTarget>();
  const announced = new Set<string>();
  const forwarders =
    options.paths &&
    createForwarders({
      ...options.paths,
      client,
      server,
      deviceId: options.deviceId,
      endpoint: options.endpoint,
      prefix: options.prefix,
      stateDir,
      entryOf: (id) => state.networks[id],
      log,
    });
  let stopped = false;

  function initialState(): DaemonState {
    const old = loadState(stateDir);
    const same = old && old.server === server && old.user_id === userId && old.device_id === options.deviceId;
    return {
      pid: process.pid,
      server,
      user_id: userId,
      device_id: options.deviceId,
      networks: same ? old.networks : {},
    };
  }

  const save = () => saveState(state, stateDir);

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
    if (state.networks[networkId] !== entry) return;
    const manager = await forwarders?.managerFor(entry);
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
    // Taken down meanwhile (`warren down`, an event): the interface must not come back.
    if (state.networks[networkId] !== entry) return;
    const result = await backend.apply(spec);
    if (manager) forwarders?.deliverEarly(manager);
    if (!announced.has(networkId)) {
      announced.add(networkId);
      log(
        `${entry.network_name}: ${entry.interface} up at ${spec.address}${result.created ? "" : " (was up)"}`,
      );
    }
    const changed =
      entry.address !== spec.address ||
      entry.cidr !== spec.cidr ||
      entry.network_name !== config.interface.network_name;
    entry.address = spec.address;
    entry.cidr = spec.cidr;
    entry.network_name = config.interface.network_name;
    if (changed) save();
    // A new interface may listen elsewhere than before; start() and reconnects report the rest.
    if (result.created) await reportEndpoint(entry);
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

  /** Removes the network's interface and forgets the network; undefined when it was not up. */
  async function teardown(networkId: string, reason: string): Promise<Removed | undefined> {
    const entry = state.networks[networkId];
    if (!entry) return undefined;
    delete state.networks[networkId];
    announced.delete(networkId);
    forwarders?.close(networkId);
    save();
    const existed = await backend.remove(entry.interface);
    log(`${entry.network_name}: removed ${entry.interface}: ${reason}`);
    return { network_id: networkId, network: entry.network_name, interface: entry.interface, existed };
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

  /**
   * `warren down`: the networks named (an id or a name; all when none) are taken down,
   * after any sync of theirs that is under way, and a network waiting for approval is
   * no longer waited for.
   */
  async function down(networkIds: string[]): Promise<Removed[]> {
    const removed: Removed[] = [];
    for (const id of networkIds) {
      const target = waiting.get(id);
      waiting.delete(id);
      await running.get(id);
      const gone = await teardown(id, "taken down by `warren down`");
      if (gone) removed.push(gone);
      else if (target) {
        removed.push({ network_id: id, network: target.name, interface: "", existed: false });
      }
    }
    return removed;
  }

  /** The daemon's view for `warren status`: its networks, their interfaces and paths. */
  async function view(): Promise<StatusView> {
    const paths = forwarders?.status() ?? {};
    const networks = await Promise.all(
      Object.values(state.networks).map(async (entry) =>
        networkView(
          entry,
          await backend.status(entry.interface).catch(() => null),
          paths[entry.network_id] ?? null,
        ),
      ),
    );
    return {
      daemon: { running: true, pid: process.pid },
      waiting: [...waiting.values()].map((t) => ({ network_id: t.id, network_name: t.name })),
      networks,
    };
  }

  async function stop(): Promise<void> {
    stopped = true;
    await Promise.allSettled([...running.values()]);
    forwarders?.stop();
    state.pid = null;
    save();
  }

  const actions: DaemonActions = {
    userId,
    networkOf: (id) => state.networks[id],
    networksIn: (tenantId) =>
      Object.values(state.networks)
        .filter((n) => n.tenant_id === tenantId)
        .map((n) => n.network_id),
    isWaiting: (id) => waiting.has(id),
    sync,
    teardown: async (id, reason) => {
      await teardown(id, reason);
    },
    resyncAll,
  };

  return {
    ...actions,
    /** the networks that are up (or coming up), as daemon.json records them */
    networks: (): NetworkState[] => Object.values(state.networks),
    /** the networks waiting for a moderator's approval */
    waitingFor: (): NetworkTarget[] => [...waiting.values()],
    start,
    reportAll,
    down,
    view,
    stop,
    onOffer: (fromDevice: string, offer: Offer) => forwarders?.onOffer(fromDevice, offer),
    fromRelay: (device: string, packet: Buffer) => forwarders?.fromRelay(device, packet),
    relayRefused: (device: string, reason: string) => forwarders?.relayRefused(device, reason),
  };
}

export type Daemon = ReturnType<typeof createDaemon>;
