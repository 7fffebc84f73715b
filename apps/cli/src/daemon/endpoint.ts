import { createSocket } from "node:dgram";
import { lookup } from "node:dns/promises";
import { isIPv6 } from "node:net";
import { usageError } from "../output.js";

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
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * `--endpoint`: "host", "host:port", "v6", "[v6]" or "[v6]:port". Without a port each
 * network's own listen port is used; with one, that port is reported for every network
 * (a NAT forwarding one port to this machine serves one network).
 */
export function parseEndpoint(text: string): { host: string; port?: number } {
  const value = text.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  let host: string;
  let port: string | undefined;
  if (bracketed) [, host = "", port] = bracketed;
  else if (isIPv6(value)) host = value;
  else [host = "", port] = value.split(/:(?=\d+$)/);
  if (!host || /[\s/[\]]/.test(host) || (host.includes(":") && !isIPv6(host))) {
    throw usageError(`--endpoint: "${text}" is not host, host:port or [ipv6]:port`);
  }
  if (port === undefined) return { host };
  const n = Number(port);
  if (!Number.isInteger(n) || n < 1 || n > 65_535) throw usageError(`--endpoint: bad port in "${text}"`);
  return { host, port: n };
}
