import { isIPv4, isIPv6 } from "node:net";
import { x25519 } from "@noble/curves/ed25519.js";
import { renderWgQuick as renderText, type WireGuardConfig } from "@warren/protocol";
import { AppError } from "../errors.js";

/**
 * WireGuard specifics the server deals in: public keys, endpoints, and the wg-quick
 * config of a device in a network. Pure functions: the peers service gathers the rows.
 */

/** Seconds: keeps NAT mappings open so peers behind NAT stay reachable (wg(8) suggests 25). */
export const PERSISTENT_KEEPALIVE = 25;

/** What the config leaves for the client: the private key never reaches the server (DESIGN.md principle 1). */
export const PRIVATE_KEY_PLACEHOLDER = "<fill in your private key>";

/**
 * A WireGuard public key as `wg pubkey` prints it: standard base64 of exactly 32 bytes
 * (44 characters ending in "="). Only the canonical spelling is taken, so one key has
 * one text and the unique index on devices.public_key means what it says. Low-order
 * X25519 points are refused: every handshake with one would derive a zero secret
 * (RFC 7748 §6.1).
 */
export function validateWireGuardKey(text: string): string {
  const fail = (why: string) =>
    new AppError(
      "invalid_public_key",
      `${why}; a WireGuard public key is 32 bytes in standard base64 (44 characters, as \`wg pubkey\` prints it)`,
      {
        details: { field: "public_key" },
      },
    );
  if (!/^[A-Za-z0-9+/]{43}=$/.test(text)) throw fail("Not 44 characters of standard base64");
  const bytes = Buffer.from(text, "base64");
  if (bytes.length !== 32 || bytes.toString("base64") !== text)
    throw fail("Not a canonical base64 encoding of 32 bytes");
  try {
    x25519.getSharedSecret(x25519.utils.randomSecretKey(), bytes);
  } catch {
    throw fail("A low-order X25519 point");
  }
  return text;
}

const DNS_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/**
 * Checks an endpoint a device reports: "host:port" with an IPv4 address or DNS name,
 * or "[IPv6]:port" (brackets as wg(8) and URLs write them). Returns it normalised
 * (IPv6 lower-cased, port without leading zeros).
 */
export function parseEndpoint(text: string): string {
  const fail = (why: string) =>
    new AppError("invalid_request", `${why}: an endpoint is "host:port" or "[IPv6]:port", port 1-65535`, {
      details: { field: "endpoint" },
    });
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (!m) throw fail(`"${text.slice(0, 80)}" is not host:port`);
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw fail(`port ${m[3]} is out of range`);
  if (m[1] !== undefined) {
    if (!isIPv6(m[1])) throw fail(`${m[1].slice(0, 64)} is not an IPv6 address`);
    return `[${m[1].toLowerCase()}]:${port}`;
  }
  const host = m[2] as string;
  if (/^[\d.]+$/.test(host)) {
    if (!isIPv4(host)) throw fail(`${host} is not an IPv4 address`);
    return `${host}:${port}`;
  }
  const name = host.endsWith(".") ? host.slice(0, -1) : host;
  if (name.length > 253 || !name.split(".").every((l) => DNS_LABEL.test(l))) {
    throw fail(`${host.slice(0, 64)} is not a host name`);
  }
  return `${host.toLowerCase()}:${port}`;
}

export interface ConfigInput {
  device: { id: string; name: string };
  network: { id: string; name: string; cidr: string };
  /** the device's own address in the network */
  address: string;
  /** every other peer of the network */
  peers: { id: string; name: string; public_key: string; address: string; endpoint: string | null }[];
}

/** The prefix length of a normalised "a.b.c.d/n". */
function prefixOf(cidr: string): string {
  return cidr.split("/")[1] ?? "32";
}

/** The config as JSON (GET /peers/:id/config?format=json). */
export function buildConfig(input: ConfigInput): WireGuardConfig {
  return {
    interface: {
      device_id: input.device.id,
      device_name: input.device.name,
      network_id: input.network.id,
      network_name: input.network.name,
      cidr: input.network.cidr,
      address: `${input.address}/${prefixOf(input.network.cidr)}`,
      private_key: null,
    },
    peers: input.peers.map((p) => ({
      peer_id: p.id,
      name: p.name,
      public_key: p.public_key,
      allowed_ips: [`${p.address}/32`],
      endpoint: p.endpoint,
      persistent_keepalive: PERSISTENT_KEEPALIVE,
    })),
  };
}

/** The same config in wg-quick(8) format, ready to save once PrivateKey is filled in. */
export function renderWgQuick(config: WireGuardConfig): string {
  return renderText(config, PRIVATE_KEY_PLACEHOLDER);
}
