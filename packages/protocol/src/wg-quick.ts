import type { WireGuardConfig } from "./http/devices.js";

/**
 * The wg-quick(8) text of a device's config (GET /v1/peers/:id/config). The server
 * renders it with a placeholder for PrivateKey; the CLI with the device's own key.
 */
export function renderWgQuick(config: WireGuardConfig, privateKey: string): string {
  const i = config.interface;
  const lines = [
    "[Interface]",
    `# Device: ${commentSafe(i.device_name)}  Network: ${commentSafe(i.network_name)} (${i.cidr})`,
    `PrivateKey = ${privateKey}`,
    `Address = ${i.address}`,
  ];
  for (const p of config.peers) {
    lines.push(
      "",
      "[Peer]",
      `# ${commentSafe(p.name)}`,
      `PublicKey = ${p.public_key}`,
      `AllowedIPs = ${p.allowed_ips.join(", ")}`,
    );
    if (p.endpoint !== null) lines.push(`Endpoint = ${p.endpoint}`);
    lines.push(`PersistentKeepalive = ${p.persistent_keepalive}`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Names go into comments: anything that could end the comment line (a newline a user
 * typed into a device name) would let a name add config lines, so control characters
 * become spaces.
 */
function commentSafe(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we strip
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, " ");
}
