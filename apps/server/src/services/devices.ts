import type { CreateDeviceBody, Device } from "@warren/protocol";
import { uuidv7 } from "@warren/protocol";
import type { Kysely } from "kysely";
import type { Bus } from "../bus/bus.js";
import { topics } from "../bus/topics.js";
import { AppError } from "../errors.js";
import type { SharedState } from "../state/index.js";
import { uniqueViolation } from "../storage/errors.js";
import {
  createDevicesRepository,
  type DeviceNetworkRow,
  type DeviceRow,
} from "../storage/repositories/devices.js";
import type { Repositories } from "../storage/repositories/index.js";
import type { PeerInNetwork } from "../storage/repositories/peers.js";
import { createPeersRepository } from "../storage/repositories/peers.js";
import type { Schema } from "../storage/schema.js";
import type { Audit, AuditAction } from "./audit.js";
import { nowIso, type RequestContext } from "./context.js";
import { createNetworkEvents } from "./networks.js";
import { createPeerViews } from "./peers.js";
import { validateWireGuardKey } from "./wg-config.js";

export interface DeviceDeps {
  db: Kysely<Schema>;
  repos: Pick<Repositories, "devices" | "peers">;
  bus: Bus;
  audit: Audit;
  state: SharedState;
}

function toDevice(row: DeviceRow, networks: DeviceNetworkRow[]): Device {
  return {
    id: row.id,
    name: row.name,
    platform: row.platform,
    public_key: row.public_key,
    last_seen: row.last_seen,
    created_at: row.created_at,
    updated_at: row.updated_at,
    networks: networks
      .filter((n) => n.device_id === row.id)
      .map((n) => ({ network_id: n.network_id, peer_id: n.peer_id, address: n.address })),
  };
}

const notFound = () => new AppError("not_found", "No such device");

const keyTaken = (cause: unknown) =>
  new AppError(
    "key_taken",
    "Another device already uses that WireGuard public key; make a new key pair on this device",
    {
      cause,
    },
  );

/**
 * A user's devices: each holds a WireGuard public key made on the device;
 * the server never takes the private key (DESIGN.md principle 1). Changes a network's
 * members must know (rename, new key, removal) go out as peer events to each network
 * the device is in.
 */
export function createDevices({ db, repos, bus, audit, state }: DeviceDeps) {
  const events = createNetworkEvents(bus);
  const views = createPeerViews(state);

  const load = async (userId: string, id: string): Promise<Device> => {
    const row = await repos.devices.get(id, userId);
    if (!row) throw notFound();
    return toDevice(row, await repos.devices.networksOf([id]));
  };

  /**
   * Audit of a device change: one event per community the device has a peer in (so
   * each community's log shows it), or one user-level event when it is in none.
   */
  const record = async (
    action: AuditAction,
    userId: string,
    deviceId: string,
    peers: PeerInNetwork[],
    details: Record<string, unknown>,
    ctx?: RequestContext,
  ) => {
    const tenants = [...new Set(peers.map((p) => p.tenant_id))];
    const base = { actorId: userId, target: deviceId };
    if (tenants.length === 0) {
      await audit.record(action, { ...base, details }, ctx);
      return;
    }
    for (const tenantId of tenants) {
      const networkIds = peers.filter((p) => p.tenant_id === tenantId).map((p) => p.network_id);
      await audit.record(
        action,
        { ...base, tenantId, details: { ...details, network_ids: networkIds } },
        ctx,
      );
    }
  };

  /** Tells every network of the device its peer changed (new name or key). */
  const announceUpdated = async (deviceId: string): Promise<PeerInNetwork[]> => {
    const peers = await repos.peers.ofDevice(deviceId);
    const shown = await views.withOnline(peers);
    for (const peer of shown) {
      await events.frame(topics.network(peer.network_id), {
        type: "peer.updated",
        network_id: peer.network_id,
        peer,
      });
    }
    return peers;
  };

  return {
    async list(userId: string): Promise<{ devices: Device[] }> {
      const rows = await repos.devices.listOf(userId);
      const networks = await repos.devices.networksOf(rows.map((r) => r.id));
      return { devices: rows.map((r) => toDevice(r, networks)) };
    },

    get: (userId: string, id: string) => load(userId, id),

    /**
     * Registers a device. A body carrying private_key is refused outright, whatever
     * else it holds: a client that sends one has a bug worth hearing about at once.
     */
    async create(
      userId: string,
      body: CreateDeviceBody & Record<string, unknown>,
      ctx?: RequestContext,
    ): Promise<Device> {
      if (Object.hasOwn(body, "private_key")) {
        throw new AppError(
          "invalid_request",
          "The server never takes private keys: make the key pair on the device and send only public_key",
          { details: { field: "private_key" } },
        );
      }
      const publicKey = validateWireGuardKey(body.public_key);
      const now = nowIso();
      const row: DeviceRow = {
        id: uuidv7(),
        user_id: userId,
        name: body.name,
        platform: body.platform,
        public_key: publicKey,
        last_seen: null,
        created_at: now,
        updated_at: now,
      };
      try {
        await repos.devices.insert(row);
      } catch (err) {
        if (uniqueViolation(err) !== undefined) throw keyTaken(err);
        throw err;
      }
      await audit.record(
        "device.create",
        {
          actorId: userId,
          target: row.id,
          details: { name: row.name, platform: row.platform, public_key: publicKey },
        },
        ctx,
      );
      return toDevice(row, []);
    },

    async rename(
      userId: string,
      id: string,
      body: { name?: string | undefined },
      ctx?: RequestContext,
    ): Promise<Device> {
      const before = await repos.devices.get(id, userId);
      if (!before) throw notFound();
      if (body.name === undefined || body.name === before.name) return load(userId, id);
      if (!(await repos.devices.rename(id, userId, body.name, nowIso()))) throw notFound();
      // The peer object carries the device's name: members see the new one at once.
      const peers = await announceUpdated(id);
      await record("device.rename", userId, id, peers, { from: before.name, to: body.name }, ctx);
      return load(userId, id);
    },

    /** A new key pair made on the device: every network it is in hears the new public key. */
    async rotateKey(
      userId: string,
      id: string,
      body: { public_key: string },
      ctx?: RequestContext,
    ): Promise<Device> {
      const publicKey = validateWireGuardKey(body.public_key);
      const before = await repos.devices.get(id, userId);
      if (!before) throw notFound();
      try {
        if (!(await repos.devices.setKey(id, userId, publicKey, nowIso()))) throw notFound();
      } catch (err) {
        if (uniqueViolation(err) !== undefined) throw keyTaken(err);
        throw err;
      }
      const peers = await announceUpdated(id);
      await record("device.rotate_key", userId, id, peers, { from: before.public_key, to: publicKey }, ctx);
      return load(userId, id);
    },

    /** Deletes the device with its peers; each network hears peer.removed once it is gone. */
    async remove(userId: string, id: string, ctx?: RequestContext): Promise<void> {
      const peers = await db.transaction().execute(async (tx) => {
        const peersOf = await createPeersRepository(tx).ofDevice(id);
        if (!(await createDevicesRepository(tx).delete(id, userId))) throw notFound();
        return peersOf;
      });
      for (const p of peers) {
        await events.frame(topics.network(p.network_id), {
          type: "peer.removed",
          network_id: p.network_id,
          peer_id: p.id,
          device_id: p.device_id,
          user_id: p.user_id,
        });
      }
      await record("device.delete", userId, id, peers, {}, ctx);
    },
  };
}

export type Devices = ReturnType<typeof createDevices>;
