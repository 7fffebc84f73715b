import type { WarrenSocket, WebSocketConstructor } from "@warren/sdk";
import WebSocket from "ws";
import { CliError } from "../output.js";
import { configDir } from "../store/paths.js";
import { ControlError, type ControlHandler, listenControl } from "./control.js";
import { createDaemon, type Daemon, type DaemonOptions, type NetworkTarget } from "./daemon.js";
import { DAEMON_EVENTS, handleFrame } from "./events.js";
import type { Offer } from "./nat/paths.js";
import { createRelayClient, type RelayClient } from "./nat/relay-client.js";
import { clearState } from "./state.js";

export interface RunOptions extends Omit<DaemonOptions, "paths"> {
  /** the networks to bring up (targets.ts) */
  targets: NetworkTarget[];
  /** NAT traversal: forwarders on the listen ports and the packet relay; false: plain WireGuard */
  nat: boolean;
  /** the hub socket's WebSocket class (default: the `ws` package's); with NAT, the relay's */
  WebSocket?: WebSocketConstructor;
  /** the hub socket's reconnect backoff (default 500 ms to 5 s) */
  reconnect?: { minDelayMs: number; maxDelayMs: number };
  /** every network is checked against the server this often (default a minute) */
  resyncEveryMs?: number;
}

export interface RunningDaemon {
  daemon: Daemon;
  socket: WarrenSocket;
  /** the control socket's path */
  control: string;
  /**
   * Settles once the daemon stopped: undefined after stop() or `warren down` (then
   * `removedAll` says whether the interfaces went too), or the error that ended it.
   */
  done: Promise<{ error?: Error; removedAll: boolean }>;
  stop(error?: Error): Promise<void>;
}

/**
 * `warren up` once it knows its device and networks: the daemon, its hub socket (frames
 * become syncs, a reconnect resyncs everything), the periodic check, and the control
 * socket `warren status` and `warren down` talk to. It runs until stop(), a `down` of
 * every network, or the server ending the session.
 */
export async function startDaemon(options: RunOptions): Promise<RunningDaemon> {
  const { client, log } = options;
  const stateDir = options.stateDir ?? configDir();
  let daemon: Daemon | undefined;
  const relayClient: RelayClient | undefined = options.nat
    ? createRelayClient({
        deviceId: options.deviceId,
        server: options.credentials.server,
        onPacket: (from, packet) => daemon?.fromRelay(from, packet),
        onRefused: (to, reason) => daemon?.relayRefused(to, reason),
        onHome: (home) => log(`home relay: instance ${home.instance}`),
        accessToken: async () => {
          await client.auth.me(); // refreshes an expired access token
          return client.tokens?.access_token ?? "";
        },
        log,
      })
    : undefined;
  const socket = client.socket({
    device: options.deviceId,
    WebSocket: (relayClient?.WebSocket ?? options.WebSocket ?? WebSocket) as never,
    // Reconnect within seconds: the tunnels keep working meanwhile, but peer changes wait.
    reconnect: options.reconnect ?? { minDelayMs: 500, maxDelayMs: 5_000 },
  });
  const live = createDaemon({
    ...options,
    stateDir,
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
  });
  daemon = live;

  let finish: (value: { error?: Error; removedAll: boolean }) => void = () => {};
  const done = new Promise<{ error?: Error; removedAll: boolean }>((resolve) => {
    finish = resolve;
  });
  let timer: NodeJS.Timeout | undefined;
  let closeControl: () => Promise<void> = async () => {};
  let stopping: Promise<void> | undefined;
  /** set before anything closes: the socket's own close event must not stop us a second time */
  let closing = false;
  const stop = (error?: Error, removedAll = false): Promise<void> => {
    closing = true;
    stopping ??= (async () => {
      clearInterval(timer);
      socket.close();
      relayClient?.close();
      await live.stop();
      await closeControl();
      if (removedAll) clearState(stateDir);
      finish({ error, removedAll });
    })();
    return stopping;
  };

  const control = await listenControl(stateDir, controlHandler(live, stop), log).catch(async (err) => {
    socket.close();
    relayClient?.close();
    throw err;
  });
  closeControl = control.close;

  for (const type of DAEMON_EVENTS) {
    socket.on(type, (frame) => {
      void handleFrame(live, frame)?.catch((err) => log(`event ${type}: ${(err as Error).message}`));
    });
  }
  socket.on("signal", (frame) => {
    const payload = frame.payload as Partial<Offer> | undefined;
    if (payload?.warren !== "paths/1" || typeof payload.network !== "string" || !frame.from_device) return;
    live.onOffer(frame.from_device, payload as Offer);
  });
  socket.on("open", (event) => {
    if (!event.reconnected) return;
    log("reconnected to the server: reconciling");
    void live.resyncAll().then(() => live.reportAll());
  });
  socket.on("close", (event) => {
    if (event.willReconnect) log(`lost the server (${event.code}); reconnecting`);
    else if (!closing) {
      void stop(
        new CliError(`the server ended this session (${event.code} ${event.reason}): run \`warren login\``),
      );
    }
  });

  try {
    await socket.connect();
    await live.start(options.targets);
  } catch (err) {
    await stop(err as Error);
    throw err;
  }
  timer = setInterval(() => void live.resyncAll(), options.resyncEveryMs ?? 60_000);
  timer.unref();
  return { daemon: live, socket, control: control.path, done, stop: (error) => stop(error) };
}

/** The control socket's two commands, answered from the running daemon. */
function controlHandler(daemon: Daemon, stop: (error?: Error, removedAll?: boolean) => Promise<void>) {
  const handler: ControlHandler = async (request) => {
    if (request.command === "status") return { result: await daemon.view() };
    if (request.network === undefined) {
      const ids = [...daemon.networks().map((n) => n.network_id), ...daemon.waitingFor().map((t) => t.id)];
      const removed = await daemon.down(ids);
      return { result: { removed, daemon_stopped: true }, after: () => void stop(undefined, true) };
    }
    const name = request.network;
    const known = [
      ...daemon.networks().map((n) => ({ id: n.network_id, name: n.network_name })),
      ...daemon.waitingFor().map((t) => ({ id: t.id, name: t.name })),
    ];
    const chosen = known.filter((n) => n.id === name || n.name === name);
    if (chosen.length === 0)
      throw new ControlError("not_found", `network "${name}" is not up on this device`);
    if (chosen.length > 1) {
      throw new ControlError(
        "ambiguous",
        `"${name}" names ${chosen.length} networks that are up: use its id`,
      );
    }
    const removed = await daemon.down([(chosen[0] as { id: string }).id]);
    return { result: { removed, daemon_stopped: false } };
  };
  return handler;
}
