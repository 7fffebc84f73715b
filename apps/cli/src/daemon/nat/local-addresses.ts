import { networkInterfaces } from "node:os";

export interface LocalAddress {
  name: string;
  address: string;
  netmask: string;
}

/** This machine's IPv4 addresses a peer on the same LAN could reach: no loopback, link-local or tunnel. */
export function localAddresses(tunnelPrefix: string): LocalAddress[] {
  const out: LocalAddress[] = [];
  for (const [name, list] of Object.entries(networkInterfaces())) {
    if (name.startsWith(tunnelPrefix)) continue;
    for (const a of list ?? []) {
      if (a.family !== "IPv4" || a.internal || a.address.startsWith("169.254.")) continue;
      out.push({ name, address: a.address, netmask: a.netmask });
    }
  }
  return out;
}

const toNumber = (ip: string) => ip.split(".").reduce((n, p) => ((n << 8) | (Number(p) & 0xff)) >>> 0, 0);

/** True when `host` is on the same subnet as the local address. */
export function sameSubnet(local: LocalAddress, host: string): boolean {
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(host)) return false;
  const mask = toNumber(local.netmask);
  return (toNumber(local.address) & mask) === (toNumber(host) & mask);
}
