import { isIP } from "node:net";
import type { InterfaceSpec, PeerSpec } from "./backend.js";
import { wireGuardPublicKey } from "./keys.js";
import { type DumpPeer, networkOf, normalizeCidr } from "./parse.js";

/**
 * The diff at the heart of the Linux backend: from the interface as it is to the
 * interface as the spec wants it, the shortest list of `ip` / `wg` commands. Pure, so
 * the tests read exactly what would run. Changes go through `wg set` on the live
 * interface (a key rotation or a peer change never takes the link down).
 */

/** What the backend reads of an existing interface. */
export interface LinuxState {
  /** administratively up */
  up: boolean;
  privateKey: string | null;
  listenPort: number | null;
  /** IPv4 addresses with prefix */
  addresses: string[];
  /** destinations of the IPv4 routes via the interface */
  routes: string[];
  peers: Pick<DumpPeer, "publicKey" | "endpoint" | "allowedIps" | "persistentKeepalive">[];
}

/** A new interface, as `ip link add` or wireguard-go leaves it. */
export const FRESH_STATE: LinuxState = {
  up: false,
  privateKey: null,
  listenPort: null,
  addresses: [],
  routes: [],
  peers: [],
};

export interface PlannedCommand {
  cmd: string;
  args: string[];
  input?: string;
}

/** What the server always sends (wg(8) suggests 25 s to keep NAT mappings open). */
export const DEFAULT_KEEPALIVE = 25;

const KEY = /^[A-Za-z0-9+/]{43}=$/;
/** Linux IFNAMSIZ is 16 with the NUL; no "/", ":", whitespace; not "." or "..". */
const IFNAME = /^[A-Za-z0-9_.=+-]{1,15}$/;

export function validateName(name: string): string {
  if (!IFNAME.test(name) || name === "." || name === "..") {
    throw new Error(`"${name}" is not an interface name (1-15 letters, digits, "_", ".", "-", "=", "+")`);
  }
  return name;
}

function validateEndpoint(text: string): string {
  const m = /^(?:\[([^\]]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || port < 1 || port > 65535 || (m[1] !== undefined && isIP(m[1]) !== 6)) {
    throw new Error(`endpoint "${text}" is not "host:port" or "[IPv6]:port"`);
  }
  return text;
}

function validatePort(n: number, what: string, max = 65535): number {
  if (!Number.isInteger(n) || n < 0 || n > max) throw new Error(`${what} ${n} is not an integer 0-${max}`);
  return n;
}

/** Throws a readable Error for anything in the spec that `ip` or `wg` would refuse or misread. */
export function validateSpec(spec: InterfaceSpec): void {
  validateName(spec.name);
  wireGuardPublicKey(spec.privateKey); // throws unless 32 bytes of base64
  if (spec.listenPort !== undefined) validatePort(spec.listenPort, "listen port");
  for (const [what, text] of [
    ["address", spec.address],
    ["cidr", spec.cidr],
  ] as const) {
    if (isIP(text.split("/")[0] ?? "") !== 4) throw new Error(`${what} "${text}" is not an IPv4 address`);
  }
  const seen = new Set<string>();
  for (const peer of spec.peers) {
    if (!KEY.test(peer.publicKey))
      throw new Error(`peer key "${peer.publicKey}" is not a WireGuard public key`);
    if (seen.has(peer.publicKey)) throw new Error(`peer ${peer.publicKey} is listed twice`);
    seen.add(peer.publicKey);
    if (peer.endpoint) validateEndpoint(peer.endpoint);
    if (peer.persistentKeepalive !== undefined)
      validatePort(peer.persistentKeepalive, "persistent keepalive");
  }
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));

/**
 * Whether `wg` shows a different endpoint than `wanted`. wg prints addresses, so for a
 * host name (resolved once, by wg) only the port can be compared.
 */
function endpointDiffers(current: string | null, wanted: string): boolean {
  if (current === null) return true;
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(wanted);
  const host = m?.[1] ?? m?.[2] ?? "";
  const port = Number(m?.[3]);
  if (isIP(host) === 6) return current !== `[${host.toLowerCase()}]:${port}`;
  if (isIP(host) === 4) return current !== `${host}:${port}`;
  return !current.endsWith(`:${port}`);
}

function peerCommand(
  name: string,
  peer: PeerSpec,
  current: LinuxState["peers"][number] | undefined,
  lastSet: string | undefined,
): PlannedCommand | null {
  const allowed = peer.allowedIps.map((ip) => normalizeCidr(ip, true));
  const keepalive = peer.persistentKeepalive ?? DEFAULT_KEEPALIVE;
  const args: string[] = [];
  const currentAllowed = current?.allowedIps.map((ip) => normalizeCidr(ip, true));
  if (allowed.length > 0 ? !currentAllowed || !sameSet(currentAllowed, allowed) : currentAllowed?.length) {
    args.push("allowed-ips", allowed.join(","));
  }
  // WireGuard roams (a peer is answered at the address its packets come from, which
  // behind NAT is not the one the server was told), so an endpoint already set is set
  // again only when the server's value changes, not whenever wg shows another one.
  const endpoint = peer.endpoint;
  if (endpoint) {
    const changed =
      lastSet !== undefined ? lastSet !== endpoint : endpointDiffers(current?.endpoint ?? null, endpoint);
    if (!current || current.endpoint === null || changed) args.push("endpoint", endpoint);
  }
  if ((current?.persistentKeepalive ?? 0) !== keepalive) {
    args.push("persistent-keepalive", keepalive === 0 ? "off" : String(keepalive));
  }
  // A new peer needs its command even with nothing to set: `wg set X peer K` adds it.
  if (args.length === 0 && current) return null;
  return { cmd: "wg", args: ["set", name, "peer", peer.publicKey, ...args] };
}

/**
 * The commands from `current` to `spec`, in the order they must run: keys and port,
 * address, link up, route, then peers (removals first, so allowed IPs are free).
 * `lastEndpoints` maps peer keys to the endpoint this backend set last (see above).
 */
export function plan(
  current: LinuxState,
  spec: InterfaceSpec,
  lastEndpoints: ReadonlyMap<string, string> = new Map(),
): PlannedCommand[] {
  validateSpec(spec);
  const name = spec.name;
  const commands: PlannedCommand[] = [];

  const set: string[] = [];
  // Compared as wg prints it (canonical base64), so another spelling of one key is no change.
  const privateKey = Buffer.from(spec.privateKey, "base64").toString("base64");
  if (current.privateKey !== privateKey) set.push("private-key", "/dev/stdin");
  if (spec.listenPort !== undefined && current.listenPort !== spec.listenPort) {
    set.push("listen-port", String(spec.listenPort));
  }
  if (set.length > 0) {
    const command: PlannedCommand = { cmd: "wg", args: ["set", name, ...set] };
    // Through stdin only: argv is visible to every user in /proc (wg(8) reads keys from files).
    if (set.includes("private-key")) command.input = `${privateKey}\n`;
    commands.push(command);
  }

  const address = normalizeCidr(spec.address, false);
  const cidr = networkOf(spec.cidr);
  // Old addresses go first: deleting a primary address also deletes the secondaries of its subnet.
  const stale = current.addresses.filter((a) => a !== address);
  for (const old of stale) commands.push({ cmd: "ip", args: ["-4", "address", "del", old, "dev", name] });
  const adding = !current.addresses.includes(address);
  if (adding) commands.push({ cmd: "ip", args: ["-4", "address", "add", address, "dev", name] });
  if (!current.up) commands.push({ cmd: "ip", args: ["link", "set", "dev", name, "up"] });

  // The kernel adds the prefix route of an address when it is added to (or comes up
  // with) an up link, and takes it away with the address; we add one only otherwise.
  const kernelAdds = networkOf(address) === cidr && (adding || !current.up);
  const lost = stale.some((a) => networkOf(a) === cidr);
  const present = current.routes.includes(cidr) && !lost;
  if (!present && !kernelAdds)
    commands.push({ cmd: "ip", args: ["-4", "route", "replace", cidr, "dev", name] });

  const wanted = new Set(spec.peers.map((p) => p.publicKey));
  for (const peer of current.peers) {
    if (!wanted.has(peer.publicKey)) {
      commands.push({ cmd: "wg", args: ["set", name, "peer", peer.publicKey, "remove"] });
    }
  }
  const byKey = new Map(current.peers.map((p) => [p.publicKey, p]));
  for (const peer of spec.peers) {
    const command = peerCommand(name, peer, byKey.get(peer.publicKey), lastEndpoints.get(peer.publicKey));
    if (command) commands.push(command);
  }
  return commands;
}
