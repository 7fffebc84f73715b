import type { Device } from "@warren/protocol";
import type { Client } from "@warren/sdk";
import { Command } from "commander";
import { action, finish } from "../action.js";
import { CliError, type Column, emit, emitList, fields, progress } from "../output.js";
import { confirm } from "../prompt.js";
import { isId } from "../resolve.js";
import { ensureDevice, openSession, rotateDeviceKey } from "../session.js";
import { type LocalDevice, loadDevice, removeDevice } from "../store/device.js";

/** `warren devices …`: my machines and their WireGuard public keys. */

const columns = (local: LocalDevice | undefined): Column<Device>[] => [
  { header: "id", value: (d) => d.id },
  { header: "name", value: (d) => (d.id === local?.device_id ? `${d.name} (this machine)` : d.name) },
  { header: "platform", value: (d) => d.platform },
  { header: "networks", value: (d) => d.networks.length },
  { header: "last seen", value: (d) => d.last_seen },
  { header: "public key", value: (d) => d.public_key },
];

function showDevice(d: Device, local: LocalDevice | undefined): string {
  return fields([
    ["id", d.id],
    ["name", d.name],
    ["platform", d.platform],
    ["public key", d.public_key],
    ["this machine", d.id === local?.device_id ? "yes" : "no"],
    ["last seen", d.last_seen],
    ["created", d.created_at],
    ["networks", d.networks.map((n) => `${n.address} in ${n.network_id}`)],
  ]);
}

/** A device by id or name; with no reference, this machine's. */
async function resolveDevice(
  client: Client,
  ref: string | undefined,
  local: LocalDevice | undefined,
): Promise<Device> {
  if (ref === undefined) {
    if (!local)
      throw new CliError(
        "this machine has no device yet: name one, or run `warren devices register`",
        1,
        "no_device",
      );
    return client.devices.get(local.device_id);
  }
  if (isId(ref)) return client.devices.get(ref);
  const devices = (await client.devices.list()).devices;
  const matches = devices.filter((d) => d.name === ref);
  if (matches.length === 1) return matches[0] as Device;
  if (matches.length === 0) throw new CliError(`no device of yours named "${ref}"`, 1, "not_found");
  throw new CliError(
    `"${ref}" names more than one device; use an id:\n${matches.map((d) => `  ${d.id}  ${d.name}`).join("\n")}`,
    1,
    "ambiguous",
  );
}

export function devicesCommand(): Command {
  const devices = new Command("devices").description("your devices (machines) and their WireGuard keys");

  devices
    .command("list")
    .description("your devices, with how many networks each is in")
    .action(
      action(async (_, o) => {
        const { client, credentials } = openSession({ server: o.server });
        const local = loadDevice(credentials.server, credentials.user.id);
        const result = await client.devices.list();
        emitList(o.json, result, result.devices, columns(local), "no devices yet");
      }),
    );

  devices
    .command("show")
    .description("one device (this machine's when none is named)")
    .argument("[device]", "device id or name")
    .action(
      action(async ([ref], o) => {
        const { client, credentials } = openSession({ server: o.server });
        const local = loadDevice(credentials.server, credentials.user.id);
        emit(o.json, await resolveDevice(client, ref, local), (d) => showDevice(d, local));
      }),
    );

  devices
    .command("register")
    .description("register this machine as a device (made by `warren config` and `warren up` too)")
    .option("--name <name>", "the device's name (default: this machine's host name)")
    .action(
      action<{ name?: string }>(async (_, o) => {
        const { client, credentials } = openSession({ server: o.server });
        progress("registering this machine");
        const local = await ensureDevice(client, credentials, { name: o.name });
        const device = await client.devices.get(local.device_id);
        emit(o.json, device, (d) => `this machine is device ${d.name} (${d.id})\npublic key ${d.public_key}`);
      }),
    );

  devices
    .command("rename")
    .description("rename a device; its networks see the new name")
    .argument("<device>", "device id or name")
    .argument("<name>", "the new name")
    .action(
      action(async ([ref, name], o) => {
        const { client, credentials } = openSession({ server: o.server });
        const local = loadDevice(credentials.server, credentials.user.id);
        const target = await resolveDevice(client, ref, local);
        const device = await client.devices.update(target.id, { name: name as string });
        emit(o.json, device, (d) => `renamed ${target.name} to ${d.name}`);
      }),
    );

  devices
    .command("delete")
    .description("delete a device; it leaves every network")
    .argument("<device>", "device id or name")
    .option("--yes", "do not ask for confirmation")
    .action(
      action<{ yes?: boolean }>(async ([ref], o) => {
        const { client, credentials } = openSession({ server: o.server });
        const local = loadDevice(credentials.server, credentials.user.id);
        const target = await resolveDevice(client, ref, local);
        await confirm(
          `Delete device ${target.name} and take it out of ${target.networks.length} network(s)?`,
          o.yes,
        );
        await client.devices.remove(target.id);
        // The key of a deleted device is of no use; the next `warren config` makes a new device.
        if (target.id === local?.device_id) removeDevice(credentials.server, credentials.user.id);
        emit(o.json, { deleted: target.id }, () => `deleted device ${target.name}`);
      }),
    );

  devices
    .command("rotate-key")
    .description(
      "give this machine's device a new WireGuard key pair (made here; only the public key is sent)",
    )
    .action(
      action(async (_, o) => {
        const { client, credentials } = openSession({ server: o.server });
        progress("making a new key pair and sending its public key");
        const rotated = await rotateDeviceKey(client, credentials);
        emit(
          o.json,
          { device_id: rotated.device_id, name: rotated.name, public_key: rotated.public_key },
          (d) =>
            `new public key for ${d.name}: ${d.public_key}\n` +
            "a running `warren up` picks it up; re-export configs made with `warren config`",
        );
      }),
    );

  return finish(devices);
}
