import { createSocket } from "node:dgram";
import { lookup } from "node:dns/promises";

/**
 * The address other devices can reach this one at: the local address this machine
 * uses to reach the server (a UDP connect picks the route and sends nothing), with the
 * interface's listen port. `--endpoint` overrides it for hosts behind NAT.
 */
export async function localAddressTowards(serverUrl: string): Promise<string> {
  const url = new URL(serverUrl);
  const port = Number(url.port) || (url.protocol === "https:" ? 443 : 80);
  const { address, family } = await lookup(url.hostname.replace(/^\[|\]$/g, ""));
  const socket = createSocket(family === 6 ? "udp6" : "udp4");
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.connect(port, address, () => resolve());
    });
    return socket.address().address;
  } finally {
    socket.close();
  }
}

/** "host:port", with brackets around an IPv6 host. */
export function endpointText(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
