import type { ServerFrame } from "@warren/protocol";
import type { Daemon } from "./daemon.js";

type Frame<T extends ServerFrame["type"]> = Extract<ServerFrame, { type: T }>;

/** What a hub frame means for the daemon's interfaces; everything else is ignored. */
export function handleFrame(daemon: Daemon, frame: ServerFrame): Promise<void> | undefined {
  const networks = daemon.state.networks;
  switch (frame.type) {
    // peer_status (a device's socket came or went) changes nothing in WireGuard: a new
    // endpoint arrives as peer_updated. Syncing on it would cost every device a REST
    // call each time any peer connects.
    case "peer.added":
    case "peer.updated":
    case "network.updated":
      return networks[frame.network_id] ? daemon.sync(frame.network_id) : undefined;
    case "peer.removed":
      if (!networks[frame.network_id]) return undefined;
      if (frame.peer_id === networks[frame.network_id]?.peer_id) {
        return daemon.teardown(frame.network_id, "this device was removed from the network");
      }
      return daemon.sync(frame.network_id);
    case "member.removed":
      return frame.user_id === daemon.userId ? removedFrom(daemon, frame) : undefined;
    case "member.joined":
      // A moderator approved a join request this daemon is waiting for.
      if (frame.user.id === daemon.userId && frame.network_id && daemon.waiting.has(frame.network_id)) {
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

function removedFrom(daemon: Daemon, frame: Frame<"member.removed">): Promise<void> {
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

async function inTenant(daemon: Daemon, tenantId: string, reason: string): Promise<void> {
  for (const entry of Object.values(daemon.state.networks)) {
    if (entry.tenant_id === tenantId) await daemon.teardown(entry.network_id, reason);
  }
}
