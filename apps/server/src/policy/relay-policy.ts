/**
 * Who may send packets to whom through the packet relay: a device its own user holds,
 * to a device that sits in at least one network with it. Sharing a community or a room
 * is not enough: the relay carries tunnel traffic, and tunnels exist only inside a
 * network.
 */
export function mayRelay(facts: { senderOwnsDevice: boolean; sharedNetworks: number }): boolean {
  return facts.senderOwnsDevice && facts.sharedNetworks > 0;
}
