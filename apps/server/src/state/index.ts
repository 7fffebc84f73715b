import type { DeviceSockets } from "./device-sockets.js";
import { type Instances, localInstance } from "./instances.js";
import { createMemoryDeviceSockets } from "./memory-device-sockets.js";
import { createMemoryPresence } from "./memory-presence.js";
import { createMemoryRateBuckets } from "./memory-rate-buckets.js";
import { createMemoryRoomMembers } from "./memory-room-members.js";
import type { PresenceStore } from "./presence.js";
import type { RateBuckets } from "./rate-buckets.js";
import type { RoomMembers } from "./room-members.js";

/** The hub's shared state: one object, so a second backend swaps all of it at once. */
export interface SharedState {
  /** true when other instances see the same state (Redis); false for this process's memory */
  shared: boolean;
  rooms: RoomMembers;
  presence: PresenceStore;
  messageBuckets: RateBuckets;
  /** hub sockets per registered device: online status of peers */
  devices: DeviceSockets;
  /** liveness of the instances sharing the state, and cleanup after one dies */
  instances: Instances;
}

export function createMemoryState(options: {
  messageRate: number;
  messageBurst: number;
  instanceId?: string;
}): SharedState {
  return {
    shared: false,
    rooms: createMemoryRoomMembers(),
    presence: createMemoryPresence(),
    messageBuckets: createMemoryRateBuckets({ rate: options.messageRate, burst: options.messageBurst }),
    devices: createMemoryDeviceSockets(),
    instances: localInstance(options.instanceId ?? "local"),
  };
}
