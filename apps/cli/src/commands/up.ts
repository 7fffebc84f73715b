import { Command, Option } from "commander";
import WebSocket from "ws";
import { action, finish } from "../action.js";
import { createDaemon } from "../daemon/daemon.js";
import { parseEndpoint } from "../daemon/endpoint.js";
import { handleFrame } from "../daemon/events.js";
import type { Offer } from "../daemon/nat/paths.js";
import { createRelayClient } from "../daemon/nat/relay-client.js";
import { isRunning, loadState } from "../daemon/state.js";
import { resolveTargets } from "../daemon/targets.js";
import { CliError } from "../output.js";
import { parsePort } from "../parse.js";
import { ensureDevice, openSession } from "../session.js";
import { createBackend } from "../wg/backend.js";
import { systemRunner } from "../wg/runner.js";

const RESYNC_MS = 60_000;
const EVENTS = [
  "peer_added",
  "peer_updated",
  "peer_removed",
  "network_updated",
  "network_deleted",
  "member_removed",
  "member_joined",
  "tenant_deleted",
] as const;

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
  const previous = loadState();
  if (isRunning(previous?.pid) && previous?.pid !== process.pid) {
    throw new CliError(
      `warren up is already running (pid ${previous?.pid}); stop it with \`warren down\` first`,
    );
  }
  if (opts.endpoint !== undefined) parseEndpoint(opts.endpoint); // a bad one fails now, not at the first report
  const firstPort = parsePort(opts.port ?? "51820", "--port");
  // Signals from the very start: an early `warren down` must stop us cleanly, not kill us.
  let stop: (reason?: Error) => void = () => {};
  const stopped = new Promise<Error | undefined>((resolve) => {
    stop = resolve;
  });
  const onSignal = () => stop();
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);

  const backend = createBackend(systemRunner(), process.platform, { userspace: opts.userspace });
  const { client, credentials } = openSession({ server: opts.server });
  const device = await ensureDevice(client, credentials);
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
  // Relayed packets and refusals reach the daemon once it exists (below).
  let relay: Pick<ReturnType<typeof createDaemon>, "fromRelay" | "relayRefused"> | undefined;
  const relayClient = opts.plainWireguard
    ? undefined
    : createRelayClient({
        deviceId: device.device_id,
        server: credentials.server,
        onPacket: (from, packet) => relay?.fromRelay(from, packet),
        onRefused: (to, reason) => relay?.relayRefused(to, reason),
        onHome: (home) => log(`home relay: instance ${home.instance}`),
        accessToken: async () => {
          await client.auth.me(); // refreshes an expired access token
          return client.tokens?.access_token ?? "";
        },
        log,
      });
  const daemon = createDaemon({
    client,
    credentials,
    deviceId: device.device_id,
    backend,
    prefix: opts.prefix,
    endpoint: opts.endpoint,
    firstPort,
    paths: relayClient && {
      relay: relayClient,
      signal: (peer, offer) => {
        try {
          socket.send({ type: "signal", to: peer.userId, to_device: peer.deviceId, payload: offer });
        } catch {
          // Not connected right now: relayed pairs ask again every few seconds, and a
          // reconnect resyncs every network.
        }
      },
    },
    log,
  });
  process.on("SIGHUP", () => daemon.reload());
  relay = daemon;
  // Reconnect within seconds: the tunnels keep working meanwhile, but peer changes wait.
  const socket = client.socket({
    device: device.device_id,
    WebSocket: (relayClient?.WebSocket ?? WebSocket) as never,
    reconnect: { minDelayMs: 500, maxDelayMs: 5_000 },
  });
  for (const type of EVENTS) {
    socket.on(type, (frame) => {
      void handleFrame(daemon, frame)?.catch((err) => log(`event ${type}: ${(err as Error).message}`));
    });
  }
  socket.on("signal", (frame) => {
    const payload = frame.payload as Partial<Offer> | undefined;
    if (payload?.warren !== "paths/1" || typeof payload.network !== "string" || !frame.from_device) return;
    daemon.onOffer(frame.from_device, payload as Offer);
  });
  socket.on("open", (event) => {
    if (!event.reconnected) return;
    log("reconnected to the server: reconciling");
    void daemon.resyncAll().then(() => daemon.reportAll());
  });
  socket.on("close", (event) => {
    if (event.willReconnect) log(`lost the server (${event.code}); reconnecting`);
    else
      stop(
        new CliError(`the server ended this session (${event.code} ${event.reason}): run \`warren login\``),
      );
  });

  let timer: NodeJS.Timeout | undefined;
  let failure: Error | undefined;
  try {
    const deviceNetworks = (await client.devices.get(device.device_id)).networks.map((n) => n.network_id);
    const targets = await resolveTargets(client, names, deviceNetworks);
    await socket.connect();
    await daemon.start(targets);
    timer = setInterval(() => void daemon.resyncAll(), RESYNC_MS);
    log(`device ${device.name} up in ${Object.keys(daemon.state.networks).length} network(s)`);
    failure = await stopped;
  } catch (err) {
    failure = err as Error;
  } finally {
    clearInterval(timer);
    socket.close();
    relayClient?.close();
    await daemon.stop();
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  }
  if (failure) throw failure;
  log("stopped; interfaces stay up until `warren down`");
}
