import { topics } from "../bus/topics.js";
import type { SharedState } from "../state/index.js";
import type { MembershipsRepository } from "../storage/repositories/memberships.js";

export type DeviceListener = (userId: string, device: string) => Promise<void>;

/**
 * The scopes a user shares with others (rooms, communities, networks): which bus
 * topics their sockets belong on, and the facts the relay rule asks the policy about.
 * Services that care about a device coming and going (peers) listen here.
 */
export function createScopes(memberships: MembershipsRepository, state: SharedState) {
  const onConnected: DeviceListener[] = [];
  const onDisconnected: DeviceListener[] = [];
  return {
    /** Every topic a new socket of this user joins besides its user and device topics. */
    async topicsOf(userId: string): Promise<string[]> {
      const [rooms, scopes] = await Promise.all([
        // Redis away: the socket still gets its communities and networks (they come from
        // the database).
        Promise.resolve(state.rooms.roomsOf(userId)).catch(() => [] as string[]),
        memberships.scopeIdsOf(userId),
      ]);
      return [
        ...rooms.map(topics.room),
        ...scopes.tenants.map(topics.tenant),
        ...scopes.networks.map(topics.network),
      ];
    },
    /** Community and network facts for mayContact (the room fact is the hub's, from memory). */
    async shared(a: string, b: string): Promise<{ shareCommunity: boolean; shareNetwork: boolean }> {
      const [shareCommunity, shareNetwork] = await Promise.all([
        memberships.shareCommunity(a, b),
        memberships.shareNetwork(a, b),
      ]);
      return { shareCommunity, shareNetwork };
    },
    listen(on: { connected?: DeviceListener; disconnected?: DeviceListener }): void {
      if (on.connected) onConnected.push(on.connected);
      if (on.disconnected) onDisconnected.push(on.disconnected);
    },
    /** A socket of this device opened (every socket, not only the first). */
    async connected(userId: string, device: string): Promise<void> {
      for (const l of onConnected) await l(userId, device);
    },
    /** A socket of this device closed. */
    async disconnected(userId: string, device: string): Promise<void> {
      for (const l of onDisconnected) await l(userId, device);
    },
  };
}

export type Scopes = ReturnType<typeof createScopes>;
