import { isIPv4, isIPv6 } from "node:net";

/**
 * Reading what `ip` and `wg` print, and the address arithmetic the plan needs.
 * Pure functions; the formats are those of iproute2 `-o` (one line per object) and
 * `wg show <if> dump` (wg(8): tab-separated, "(none)" and "off" for unset values).
 */

export interface LinkInfo {
  index: number;
  /** administratively up (the UP flag) */
  up: boolean;
}

/** `ip -o link show dev X`: "3: wg0: <POINTOPOINT,NOARP,UP,LOWER_UP> mtu 1420 …" */
export function parseLink(stdout: string): LinkInfo | null {
  const m = /^(\d+):\s+[^:]+:\s+<([^>]*)>/m.exec(stdout);
  if (!m) return null;
  return { index: Number(m[1]), up: (m[2] ?? "").split(",").includes("UP") };
}

export interface DumpPeer {
  publicKey: string;
  presharedKey: string | null;
  endpoint: string | null;
  allowedIps: string[];
  /** seconds since the epoch; 0: never */
  latestHandshake: number;
  rxBytes: number;
  txBytes: number;
  /** seconds; 0: off */
  persistentKeepalive: number;
}

export interface Dump {
  privateKey: string | null;
  publicKey: string | null;
  listenPort: number;
  fwmark: number | null;
  peers: DumpPeer[];
}

const none = (text: string | undefined): string | null =>
  text === undefined || text === "(none)" || text === "" ? null : text;
const off = (text: string | undefined): number => (text === undefined || text === "off" ? 0 : Number(text));

/**
 * `wg show X dump`: first line the interface (private key, public key, listen port,
 * fwmark), then one line per peer (public key, preshared key, endpoint, allowed ips,
 * latest handshake, rx bytes, tx bytes, persistent keepalive).
 */
export function parseDump(stdout: string): Dump {
  const lines = stdout.split("\n").filter((line) => line.trim() !== "");
  const head = (lines[0] ?? "").split("\t");
  if (head.length < 4)
    throw new Error(`unexpected \`wg show dump\` output: ${JSON.stringify(lines[0] ?? "")}`);
  const peers = lines.slice(1).map((line): DumpPeer => {
    const f = line.split("\t");
    if (f.length < 8) throw new Error(`unexpected \`wg show dump\` peer line: ${JSON.stringify(line)}`);
    const allowed = none(f[3]);
    return {
      publicKey: f[0] as string,
      presharedKey: none(f[1]),
      endpoint: none(f[2]),
      allowedIps: allowed ? allowed.split(",") : [],
      latestHandshake: Number(f[4]),
      rxBytes: Number(f[5]),
      txBytes: Number(f[6]),
      persistentKeepalive: off(f[7]),
    };
  });
  const fwmark = head[3] === "off" || head[3] === undefined ? null : Number(head[3]);
  return {
    privateKey: none(head[0]),
    publicKey: none(head[1]),
    listenPort: Number(head[2]),
    fwmark,
    peers,
  };
}

/** `ip -o -4 addr show dev X`: the "inet a.b.c.d/n" of every line. */
export function parseAddresses(stdout: string): string[] {
  return [...stdout.matchAll(/\binet (\S+)/g)].map((m) => normalizeCidr(m[1] as string, false));
}

/** `ip -4 route show dev X`: each route's destination, as a CIDR. */
export function parseRoutes(stdout: string): string[] {
  const out: string[] = [];
  for (const line of stdout.split("\n")) {
    const dest = line.trim().split(/\s+/)[0];
    if (!dest) continue;
    out.push(dest === "default" ? "0.0.0.0/0" : normalizeCidr(dest, true));
  }
  return out;
}

function ipv4ToInt(ip: string): number {
  return ip.split(".").reduce((acc, part) => acc * 256 + Number(part), 0);
}

function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

/**
 * "a.b.c.d[/n]" with the prefix made explicit (/32 when absent); with `mask`, host
 * bits cleared, as routes and allowed-ips are shown. IPv6 is lower-cased only.
 * Throws on anything that is not an address.
 */
export function normalizeCidr(text: string, mask: boolean): string {
  const [ip = "", prefixText, extra] = text.split("/");
  const v4 = isIPv4(ip);
  if (extra !== undefined || (!v4 && !isIPv6(ip))) throw new Error(`"${text}" is not an IP address or CIDR`);
  const max = v4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText ?? "0") || prefix > max)
    throw new Error(`"${text}" has a bad prefix length`);
  if (!v4) return `${ip.toLowerCase()}/${prefix}`;
  if (!mask) return `${ip}/${prefix}`;
  const size = 2 ** (32 - prefix);
  return `${intToIpv4(Math.floor(ipv4ToInt(ip) / size) * size)}/${prefix}`;
}

/** The IPv4 network an address with prefix lies in: "10.1.0.2/24" → "10.1.0.0/24". */
export function networkOf(address: string): string {
  return normalizeCidr(address, true);
}
