import { Command, Option } from "commander";
import { action, finish } from "../action.js";
import { controlSocketPath, daemonAnswers } from "../daemon/control.js";
import { parseEndpoint } from "../daemon/endpoint.js";
import { type RunningDaemon, startDaemon } from "../daemon/run.js";
import { loadState } from "../daemon/state.js";
import { resolveTargets } from "../daemon/targets.js";
import { CliError } from "../output.js";
import { parsePort } from "../parse.js";
import { ensureDevice, openSession } from "../session.js";
import { createBackend } from "../wg/backend.js";
import { systemRunner } from "../wg/runner.js";

const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);

interface UpOptions {
  prefix: string;
  endpoint?: string;
  port?: string;
  userspace: "auto" | "always" | "never";
  plainWireguard?: boolean;
}

export function upCommand(): Command {
  const up = new Command("up")
    .description("bring this device onto networks over WireGuard and keep it in step (root or CAP_NET_ADMIN)")
    .argument(
      "[networks...]",
      'network names, "community/network" or ids (default: the networks this device is in)',
    )
    .option("--prefix <prefix>", "interface names are this prefix + 8 hex digits of the network id", "wrn")
    .option(
      "--endpoint <host[:port]>",
      "where other devices reach this one (default: the local address towards the server)",
    )
    .option(
      "--port <port>",
      "first UDP listen port to use; each further network takes the next free one",
      "51820",
    )
    .option(
      "--plain-wireguard",
      "WireGuard listens on the port itself and peers dial the reported endpoint: no NAT traversal, no relay",
    )
    .addOption(
      new Option(
        "--userspace <mode>",
        "use wireguard-go: when the kernel module is missing, always, or never",
      )
        .choices(["auto", "always", "never"])
        .default("auto"),
    )
    .action(action<UpOptions>(async (_args, opts, command) => runUp(command.args, opts)));
  return finish(up);
}

async function runUp(names: string[], opts: UpOptions & { server?: string }): Promise<void> {
  if (await daemonAnswers(controlSocketPath())) {
    throw new CliError("warren up is already running here; stop it with `warren down` first");
  }
  if (opts.endpoint !== undefined) parseEndpoint(opts.endpoint); // a bad one fails now, not at the first report
  const firstPort = parsePort(opts.port ?? "51820", "--port");
  // Signals from the very start: a stop asked for while starting takes effect once started.
  let running: RunningDaemon | undefined;
  let signalled = false;
  const onSignal = () => {
    signalled = true;
    void running?.stop();
  };
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  try {
    const backend = createBackend(systemRunner(), process.platform, { userspace: opts.userspace });
    const { client, credentials } = openSession({ server: opts.server });
    const device = await ensureDevice(client, credentials);
    const previous = loadState();
    const other =
      previous &&
      Object.keys(previous.networks).length > 0 &&
      (previous.server !== credentials.server ||
        previous.user_id !== credentials.user.id ||
        previous.device_id !== device.device_id);
    if (other) {
      throw new CliError(
        "interfaces of another server, account or device are still up here (daemon.json): run `warren down` first",
      );
    }
    const deviceNetworks = (await client.devices.get(device.device_id)).networks.map((n) => n.network_id);
    const targets = await resolveTargets(client, names, deviceNetworks);
    running = await startDaemon({
      client,
      credentials,
      deviceId: device.device_id,
      backend,
      prefix: opts.prefix,
      endpoint: opts.endpoint,
      firstPort,
      nat: !opts.plainWireguard,
      targets,
      log,
    });
    log(`device ${device.name} up in ${running.daemon.networks().length} network(s)`);
    if (signalled) void running.stop();
    const { error, removedAll } = await running.done;
    if (error) throw error;
    log(removedAll ? "stopped; every interface removed" : "stopped; interfaces stay up until `warren down`");
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  }
}
