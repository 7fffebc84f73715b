import { Command } from "commander";
import { action, finish } from "../action.js";
import { emit, fields } from "../output.js";
import { openSession } from "../session.js";
import { loadDevice } from "../store/device.js";

export function whoamiCommand(): Command {
  const whoami = new Command("whoami")
    .description("the signed-in account, its server and this machine's device")
    .action(
      action(async (_, o) => {
        const { client, credentials } = openSession({ server: o.server });
        const me = await client.auth.me();
        const device = loadDevice(credentials.server, me.id);
        const local = device
          ? { id: device.device_id, name: device.name, public_key: device.public_key }
          : null;
        emit(o.json, { server: credentials.server, ...me, device: local }, () =>
          fields([
            ["user", me.username],
            ["id", me.id],
            ["server", credentials.server],
            ["email", me.email],
            ["two-factor", me.totp_enabled ? "on" : "off"],
            ["device", local ? `${local.name} (${local.id})` : null],
          ]),
        );
      }),
    );
  return finish(whoami);
}
