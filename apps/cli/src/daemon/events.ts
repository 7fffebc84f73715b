import type { ServerFrame } from "@warren/protocol";

type Frame<T extends ServerFrame["type"]> = Extract<ServerFrame, { type: T }>;

/** What hub frames act on: the daemon, seen through the few things they need of it. */
export interface DaemonActions {
  /** the signed-in user, whose removals and admissions concern this device */
  readonly userId: string;
  /** a network that is up, with this device's peer in it */
  networkOf(networkId: string): { peer_id: string; tenant_id: string } | undefined;
  /** the ids of the networks that are up in a community */
  networksIn(tenantId: string): string[];
  /** a join request for the network waits for a moderator */
  isWaiting(networkId: string): boolean;
  /** makes the network's interface match the server's view of it */
  sync(networkId: string): Promise<void>;
  /** removes the network's interface and forgets the network */
  teardown(networkId: string, reason: string): Promise<void>;
  /** joins the networks waiting for approval where that now works, and syncs every network */
  resyncAll(): Promise<void>;
}

/** The hub frames the daemon acts on; handleFrame ignores every other type. */
export const DAEMON_EVENTS = [
  "peer.added",
  "peer.updated",
  "peer.removed",
  "network.updated",
  "network.deleted",
  "member.removed",
  "member.joined",
  "tenant.deleted",
] as const;

/** What a hub frame means for the daemon's interfaces; everything else is ignored. */
export function handleFrame(daemon: DaemonActions, frame: ServerFrame): Promise<void> | undefined {
  switch (frame.type) {
    // peer.status (a device's socket came or went) changes nothing in WireGuard: a new
    // endpoint arrives as peer.updated. Syncing on it would cost every device a REST
    // call each time any peer connects.
    case "peer.added":
    case "peer.updated":
    case "network.updated":
      return daemon.networkOf(frame.network_id) ? daemon.sync(frame.network_id) : undefined;
    case "peer.removed": {
      const network = daemon.networkOf(frame.network_id);
      if (!network) return undefined;
      if (frame.peer_id === network.peer_id) {
        return daemon.teardown(frame.network_id, "this device was removed from the network");
      }
      return daemon.sync(frame.network_id);
    }
    case "member.removed":
      return frame.user_id === daemon.userId ? removedFrom(daemon, frame) : undefined;
    case "member.joined":
      // A moderator approved a join request this daemon is waiting for.
      if (frame.user.id === daemon.userId && frame.network_id && daemon.isWaiting(frame.network_id)) {
        return daemon.resyncAll();
      }
      return undefined;
    case "network.deleted":
      return daemon.teardown(frame.network_id, "the network was deleted");
    case "tenant.deleted":
      return inTenant(daemon, frame.tenant_id, "the community was deleted");
    default:
      return undefined;
  }
}

function removedFrom(daemon: DaemonActions, frame: Frame<"member.removed">): Promise<void> {
  const why =
    frame.reason === "banned"
      ? `banned${frame.ban_reason ? ` (${frame.ban_reason})` : ""}${frame.until ? ` until ${frame.until}` : ""}`
      : frame.reason === "kicked"
        ? "kicked"
        : "left";
  if (frame.network_id) {
    return daemon.teardown(frame.network_id, `${why} from the network`);
  }
  return inTenant(daemon, frame.tenant_id, `${why} from the community`);
}

async function inTenant(daemon: DaemonActions, tenantId: string, reason: string): Promise<void> {
  for (const id of daemon.networksIn(tenantId)) await daemon.teardown(id, reason);
}
