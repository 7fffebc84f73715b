import { closeSync, fchmodSync, openSync, writeSync } from "node:fs";
import { Command } from "commander";
import { action, finish } from "../action.js";
import { CliError, emit, print, progress } from "../output.js";
import { resolveNetwork } from "../resolve.js";
import { ensureDevice, openSession } from "../session.js";
import { wgQuickText } from "../wg/export.js";

/**
 * `warren config <network>`: a wg-quick file for the official WireGuard apps (macOS,
 * Windows, iOS, Android). The server's config leaves PrivateKey out; it is filled in
 * here from the local key store, so the whole file only ever exists on this machine.
 */
export function configCommand(): Command {
  const config = new Command("config")
    .description("print this device's wg-quick config for a network, private key filled in")
    .argument("<network>", 'network id, name, or "community/name"')
    .option("--name <name>", "name for this device if it is registered now (default: host name)")
    .option("-o, --output <file>", "write the config to this file (mode 0600) instead of printing it")
    .action(
      action<{ name?: string; output?: string }>(async ([ref], o) => {
        const { client, credentials } = openSession({ server: o.server });
        const network = await resolveNetwork(client, ref as string);
        if (network.my_status === null) {
          throw new CliError(
            `you are not a member of ${network.name}: run \`warren networks join ${network.name}\``,
          );
        }
        if (network.my_status === "pending") {
          throw new CliError(`your request to join ${network.name} is waiting for a moderator's approval`);
        }
        progress("checking this machine's device");
        const local = await ensureDevice(client, credentials, { name: o.name });
        const device = await client.devices.get(local.device_id);
        let peerId = device.networks.find((n) => n.network_id === network.id)?.peer_id;
        if (!peerId) {
          progress(`adding ${device.name} to ${network.name}`);
          peerId = (await client.networks.addPeer(network.id, device.id)).id;
        }
        const wg = await client.peers.configJson(peerId);
        if (o.json) {
          emit(true, { ...wg, interface: { ...wg.interface, private_key: local.private_key } }, () => "");
          return;
        }
        const text = wgQuickText(wg, local.private_key);
        if (o.output) {
          writePrivate(o.output, text);
          process.stderr.write(`wrote ${o.output}\n`);
        } else print(text);
      }),
    );
  return finish(config);
}

/** The file holds a private key: mode 0600 before any content is written. */
function writePrivate(file: string, text: string): void {
  const fd = openSync(file, "w", 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}
