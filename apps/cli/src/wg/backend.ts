import { createLinuxBackend } from "./linux.js";
import { createMemoryBackend } from "./memory-backend.js";
import type { CommandRunner } from "./runner.js";

/**
 * The WireGuard backend: given the whole desired state of one interface, it works out
 * and runs only the commands needed to get there (DESIGN.md: OS changes are
 * declarative and idempotent). Linux only; macOS and Windows get config export.
 */

export interface PeerSpec {
  /** base64, as `wg pubkey` prints it */
  publicKey: string;
  /** e.g. ["10.1.0.3/32"] */
  allowedIps: string[];
  /** "host:port" or "[v6]:port"; null or absent: not known, whatever WireGuard learned is kept */
  endpoint?: string | null;
  /** seconds; default 25 (what the server always sends, wg(8) suggests it for NAT); 0 turns it off */
  persistentKeepalive?: number;
}

export interface InterfaceSpec {
  /** the interface name, at most 15 characters */
  name: string;
  /** base64; reaches `wg` through stdin only */
  privateKey: string;
  /** absent: keep whatever port the interface has */
  listenPort?: number;
  /** this device's address with the network's prefix, e.g. "10.1.0.2/24" */
  address: string;
  /** the network, e.g. "10.1.0.0/24"; a route for it via the interface is kept */
  cidr: string;
  peers: PeerSpec[];
}

export interface PeerStatus {
  publicKey: string;
  endpoint: string | null;
  allowedIps: string[];
  /** null when there has been no handshake */
  latestHandshake: Date | null;
  rxBytes: number;
  txBytes: number;
}

export interface InterfaceStatus {
  name: string;
  /** "" while no private key is set */
  publicKey: string;
  listenPort: number;
  /** IPv4 addresses with prefix, e.g. ["10.1.0.2/24"] */
  addresses: string[];
  peers: PeerStatus[];
}

export interface ApplyResult {
  /** the interface did not exist and was made */
  created: boolean;
  /** how many commands that change the system ran (0: it already matched) */
  commands: number;
}

export interface WireGuardBackend {
  apply(spec: InterfaceSpec): Promise<ApplyResult>;
  /** deletes the interface (its address and routes go with it); false when there was none */
  remove(name: string): Promise<boolean>;
  /** null when the interface does not exist */
  status(name: string): Promise<InterfaceStatus | null>;
  exists(name: string): Promise<boolean>;
}

export interface BackendOptions {
  /**
   * "system" (default): the machine's WireGuard; "memory": nothing on the machine is
   * touched, the desired state is only kept (memory-backend.ts), on any platform.
   */
  kind?: "system" | "memory";
  /**
   * "auto" (default): the kernel module, else wireguard-go; "always": wireguard-go only;
   * "never": the kernel module only.
   */
  userspace?: "auto" | "always" | "never";
}

const EXPORT_ONLY =
  "only config export is supported here: run `warren config <network>` and import the file into the official WireGuard app";

export function createBackend(
  runner: CommandRunner,
  platform: NodeJS.Platform = process.platform,
  options: BackendOptions = {},
): WireGuardBackend {
  if (options.kind === "memory") return createMemoryBackend();
  if (platform === "linux") return createLinuxBackend(runner, options);
  if (platform === "darwin")
    throw new Error(`warren cannot manage WireGuard interfaces on macOS; ${EXPORT_ONLY}`);
  if (platform === "win32")
    throw new Error(`warren cannot manage WireGuard interfaces on Windows; ${EXPORT_ONLY}`);
  throw new Error(`warren manages WireGuard interfaces on Linux only, not on ${platform}; ${EXPORT_ONLY}`);
}
