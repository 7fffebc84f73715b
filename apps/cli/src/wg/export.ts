import { renderWgQuick, type WireGuardConfig } from "@warren/protocol";
import type { InterfaceSpec } from "./backend.js";
import { wireGuardPublicKey } from "./keys.js";

/**
 * From the server's view of a device in a network (GET /v1/peers/:id/config?format=json)
 * to what runs here: a wg-quick(8) file with this device's private key filled in (for
 * the official WireGuard app on macOS and Windows), or the backend's InterfaceSpec.
 */

/** The wg-quick text: the server's layout, with PrivateKey filled in. Save it with mode 0600. */
export function wgQuickText(config: WireGuardConfig, privateKey: string): string {
  wireGuardPublicKey(privateKey); // throws unless 32 bytes of base64
  return renderWgQuick(config, privateKey);
}

/** The desired state of the network's interface, for WireGuardBackend.apply. */
export function specFromConfig(
  config: WireGuardConfig,
  privateKey: string,
  name: string,
  listenPort?: number,
): InterfaceSpec {
  const spec: InterfaceSpec = {
    name,
    privateKey,
    address: config.interface.address,
    cidr: config.interface.cidr,
    peers: config.peers.map((p) => ({
      publicKey: p.public_key,
      allowedIps: p.allowed_ips,
      endpoint: p.endpoint,
      persistentKeepalive: p.persistent_keepalive,
    })),
  };
  if (listenPort !== undefined) spec.listenPort = listenPort;
  return spec;
}

const PREFIX = /^[A-Za-z][A-Za-z0-9_-]{0,6}$/;

/**
 * The interface of a network: prefix + 8 hex digits of the network id, 15 characters
 * at most (Linux IFNAMSIZ). The digits are the id's last 8: ids are UUIDv7, whose
 * first 8 digits are the top of a millisecond clock and so equal for every network
 * made within the same ~65 s (RFC 9562 §5.7); the last 8 are random.
 */
export function interfaceName(networkId: string, prefix = "wrn"): string {
  if (!PREFIX.test(prefix)) {
    throw new Error(
      `interface prefix "${prefix}" must be 1-7 letters, digits, "_" or "-", starting with a letter`,
    );
  }
  const hex = networkId.replaceAll("-", "").toLowerCase();
  if (!/^[0-9a-f]{8,}$/.test(hex)) throw new Error(`"${networkId}" is not a network id`);
  return `${prefix}${hex.slice(-8)}`;
}
