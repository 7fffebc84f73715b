import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { CLOSE, uuidv7, version1Text } from "@warren/protocol";
import type { Redis } from "ioredis";
import { type RawData, WebSocketServer } from "ws";
import type { Bus } from "../bus/bus.js";
import type { Config } from "../config.js";
import type { Metrics } from "../observability/metrics.js";
import type { Services } from "../services/index.js";
import type { SharedState } from "../state/index.js";
import { catchUp } from "./catch-up.js";
import {
  Connection,
  type HubSocket,
  hubSocketClass,
  type Identity,
  releaseReadBuffers,
  welcomeTextOf,
} from "./connection.js";
import { createDeliver } from "./deliver.js";
import { createDispatch } from "./dispatch.js";
import { createDmDelivery } from "./dm-delivery.js";
import { createFrameQueue } from "./frame-queue.js";
import { createHandlers } from "./handlers/index.js";
import { startHeartbeat } from "./heartbeat.js";
import { startLiveness } from "./liveness.js";
import { createLocalSockets } from "./local-sockets.js";
import { createOutbox } from "./outbox.js";
import { createPacketRelay } from "./packet-relay.js";
import {
  createUpgradeCheck,
  ignoreSocketError,
  refuse,
  releaseHttpLeftovers,
  selectSubprotocol,
  WS_PATHS,
} from "./upgrade.js";

export interface HubDeps {
  config: Readonly<Config>;
  services: Services;
  bus: Bus;
  state: SharedState;
  /** the Redis client when REDIS_URL is set: the upgrade limiter is shared by every instance */
  redis?: Redis;
  metrics: Metrics;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export interface HubStats {
  connections_total: number;
  connections_active: number;
  messages_processed: number;
}

/**
 * The WebSocket hub of this instance: upgrades, the sockets, heartbeats, and delivery of
 * bus events to local sockets. Decisions stay in the services (DESIGN.md principle 5).
 */
export function createHub({ config, services, bus, state, redis, metrics, log }: HubDeps) {
  const hub = config.hub;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: hub.maxMessageBytes,
    perMessageDeflate: false,
    clientTracking: false,
    handleProtocols: selectSubprotocol,
    WebSocket: hubSocketClass({
      message: (conn, data, isBinary) => receive(conn, data, isBinary),
      flush: (conn) => outbox.flush(conn),
      pong(conn) {
        conn.missed = 0;
      },
      close: (conn) => void closed(conn),
      error(err) {
        // ws closes oversized frames itself (1009); count them here.
        if (err.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") metrics.closed("too_big");
      },
    }),
  });
  const connections = new Set<Connection>();
  /** open sockets per account on this instance, for MAX_SOCKETS_PER_USER */
  const socketsPerUser = new Map<string, number>();
  const pending = new Set<Connection>();
  const graceTimers = new Map<string, NodeJS.Timeout>();
  const stats: HubStats = { connections_total: 0, connections_active: 0, messages_processed: 0 };
  const outbox = createOutbox(metrics, hub.slowClientBytes);
  let closing = false;

  const packets = createPacketRelay({
    access: services.relayAccess,
    bytesPerSecond: config.nat.relayBytesPerSecond,
    maxQueuedBytes: hub.slowClientBytes / 2,
    instanceId: config.redis.instanceId,
    url: config.nat.relayUrl,
    stunPorts: [config.nat.stunPort, config.nat.stunAltPort].filter((p): p is number => p !== undefined),
    registry: metrics.registry,
  });
  // Bus events for this instance's sockets (deliver.ts): defined once `local` exists.
  const local = createLocalSockets(bus, (topic, event) => deliver(topic, event));
  const deliver = createDeliver({
    local,
    outbox,
    metrics,
    observers: [services.signaling, packets],
  });
  const dmDelivery = createDmDelivery(services.directMessages, outbox);

  const dispatch = createDispatch({
    handlers: createHandlers({
      bus,
      state,
      rooms: services.rooms,
      presence: services.presence,
      commands: services.commands,
      scopes: services.scopes,
      directMessages: services.directMessages,
      dmDelivery,
      localRooms: local,
      signaling: services.signaling,
    }),
    buckets: state.messageBuckets,
    outbox,
    metrics,
    messageRate: hub.messageRate,
    maxJsonDepth: config.maxJsonDepth,
    log,
    onValid(conn) {
      conn.valid = true;
      pending.delete(conn);
    },
    onProcessed(type) {
      stats.messages_processed += 1;
      services.analytics.count(type);
    },
  });

  const queue = createFrameQueue({ dispatch, metrics, log });
  const receive = (conn: Connection, data: RawData, isBinary: boolean) => {
    if (isBinary && packets.receive(conn, data)) return;
    queue.receive(conn, data, isBinary);
  };

  /**
   * `corked` is the upgraded socket, holding back its 101 response: uncorked once the
   * welcome is written, so both leave in one write. (The socket, not a closure that
   * uncorks it: under tsx, which `npm start` runs, every named closure is also renamed
   * with Object.defineProperty when it is made, 1.4 % of an accept's samples.)
   */
  const opened = (ws: HubSocket, identity: Identity, corked: Duplex) => {
    const conn = new Connection(uuidv7(), identity, ws, Date.now());
    ws.conn = conn;
    connections.add(conn);
    socketsPerUser.set(identity.userId, (socketsPerUser.get(identity.userId) ?? 0) + 1);
    pending.add(conn);
    stats.connections_total += 1;
    stats.connections_active += 1;
    metrics.activeConnections.inc();
    services.analytics.sessionOpened(conn.id, identity.userId, identity.device, conn.openedAt);
    // Frames that arrive before the socket is on its topics wait, in order: once the
    // client has its welcome, it is in every room, community and network it belongs to.
    conn.busy = true;
    void (async () => {
      // A reconnect within the grace period keeps the seats: back on every room topic.
      const timer = graceTimers.get(identity.userId);
      if (timer) {
        clearTimeout(timer);
        graceTimers.delete(identity.userId);
      }
      try {
        const scoped = await services.scopes.topicsOf(identity.userId).catch((err) => {
          log.warn({ err }, "looking up a socket's topics failed");
          return [] as string[];
        });
        if (!connections.has(conn)) return;
        local.addOwn(conn);
        for (const topic of scoped) local.add(topic, conn);
        // With Redis, "welcome" waits until those subscriptions are in force.
        await bus.settled();
        if (!connections.has(conn)) return;
        outbox.send(conn, welcomeTextOf(conn, hub), "welcome");
        outbox.flush(conn);
      } finally {
        corked.uncork();
      }
      // Store-and-forward: the device's first page of pending direct messages, before
      // anything it sent meanwhile is answered. A device id the server made up has no
      // message keys (nothing could name it before), so nothing waits for it.
      if (identity.namedDevice) {
        await dmDelivery.start(conn).catch((err) => log.warn({ err }, "direct message delivery failed"));
        if (!connections.has(conn)) return;
      }
      queue.drain(conn);
      await services.presence.connected(identity.userId, identity.device);
      // Only a device the client named can be a registered device with peers.
      if (identity.namedDevice) await services.scopes.connected(identity.userId, identity.device);
    })().catch((err) => log.warn({ err }, "connection setup failed"));
  };

  /** The user has no socket left anywhere: their room seats wait ROOM_GRACE_PERIOD. */
  const startGrace = (userId: string) => {
    if (closing || graceTimers.has(userId)) return;
    const timer = setTimeout(() => {
      graceTimers.delete(userId);
      void (async () => {
        if (!(await services.presence.isOnline(userId))) await services.rooms.departAll(userId);
      })().catch((err) => log.warn({ err }, "room departure failed"));
    }, hub.roomGraceMs);
    timer.unref();
    graceTimers.set(userId, timer);
  };

  const closed = async (conn: Connection) => {
    if (!connections.delete(conn)) return;
    const left = (socketsPerUser.get(conn.identity.userId) ?? 1) - 1;
    if (left > 0) socketsPerUser.set(conn.identity.userId, left);
    else socketsPerUser.delete(conn.identity.userId);
    pending.delete(conn);
    stats.connections_active -= 1;
    metrics.activeConnections.dec();
    const closedAt = Date.now();
    metrics.connectionDuration.observe((closedAt - conn.openedAt) / 1000);
    local.removeAll(conn);
    packets.closed(conn);
    const { userId, device } = conn.identity;
    services.analytics.sessionClosed(conn.id, userId, device, conn.openedAt, closedAt);
    try {
      if (conn.identity.namedDevice) await services.scopes.disconnected(userId, device);
      const offline = await services.presence.disconnected(userId, device);
      if (offline) startGrace(userId);
    } catch (err) {
      log.warn({ err }, "disconnect bookkeeping failed");
    }
  };

  const check = createUpgradeCheck({
    services,
    redis,
    keyPrefix: config.redis.keyPrefix,
    allowedOrigins: config.allowedOrigins,
    trustProxy: config.trustProxy,
    upgradesPerMinute: hub.upgradesPerMinute,
    maxPendingPerAddress: hub.maxPendingUpgradesPerAddress,
    adminUsers: config.adminUsers,
    metrics,
  });

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", ignoreSocketError);
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (!WS_PATHS.has(path)) {
      metrics.upgradeRejected("bad_request");
      refuse(socket, "not_found", `No WebSocket endpoint at ${path}; use /v1/ws`);
      return;
    }
    // RFC 6455 §4.4: a version we do not speak is answered 426 naming the one we do.
    if (req.headers["sec-websocket-version"] !== "13") {
      metrics.upgradeRejected("bad_version");
      refuse(socket, "upgrade_required", undefined, { "sec-websocket-version": "13" });
      return;
    }
    if (closing) {
      metrics.upgradeRejected("shutting_down");
      refuse(socket, "service_unavailable", "The server is shutting down");
      return;
    }
    void check(req, socket).then(
      (identity) => {
        if (!identity || socket.destroyed) return;
        // The 101 response waits for the welcome (opened), so both leave in one write.
        socket.cork();
        wss.handleUpgrade(req, socket, head, (ws) => {
          releaseHttpLeftovers(socket);
          // One account cannot hold this instance's sockets: one over the cap is told
          // why (a close reason a browser can read) and closed.
          if ((socketsPerUser.get(identity.userId) ?? 0) >= hub.maxSocketsPerUser) {
            metrics.closed("too_many_connections");
            ws.close(
              CLOSE.too_many_connections,
              `too many open sockets for this account (limit ${hub.maxSocketsPerUser})`,
            );
            socket.uncork();
            return;
          }
          opened(ws as HubSocket, identity, socket);
        });
      },
      () => refuse(socket, "service_unavailable"),
    );
  };

  // Timers shared by every socket (heartbeat, handshake deadline): per-socket ones cost memory.
  const stopHeartbeat = startHeartbeat({
    intervalMs: hub.heartbeatIntervalMs,
    sockets: () => connections,
    ping(conn) {
      // A burst since the last round may have left ws's chunk array grown: room freed.
      releaseReadBuffers(conn.ws);
      outbox.ping(conn);
    },
    dead(conn) {
      if (!connections.has(conn)) return;
      metrics.closed("heartbeat");
      conn.ws.terminate();
    },
  });
  const deadline = setInterval(
    () => {
      const now = Date.now();
      for (const conn of pending) {
        if (now - conn.openedAt < hub.handshakeTimeoutMs) continue;
        pending.delete(conn);
        metrics.closed("idle");
        conn.ws.close(CLOSE.policy_violation, "no valid frame in time");
      }
    },
    Math.min(1000, hub.handshakeTimeoutMs),
  );
  deadline.unref();
  const stopLiveness = startLiveness({
    services,
    bus,
    instances: state.instances,
    instanceTtlMs: config.redis.instanceTtlMs,
    offline: startGrace,
    snapshot: () => ({
      sockets: [...connections].map((c) => ({ user: c.identity.userId, device: c.identity.device })),
      rooms: local.roomMembers(),
    }),
    restored: (downSinceMs) => catchUp({ services, local, outbox, dmDelivery, connections }, downSinceMs),
    log,
  });

  return {
    stats,
    localRoomCount: () => local.roomCount(),
    attach(server: Server) {
      // A client that has not finished its upgrade request in time is dropped.
      server.headersTimeout = Math.min(
        server.headersTimeout || hub.handshakeTimeoutMs,
        hub.handshakeTimeoutMs,
      );
      // Node wants headersTimeout at most a non-zero requestTimeout (HTTP_REQUEST_TIMEOUT,
      // which bounds slow bodies and is not lengthened here); 0 means no such limit.
      if (server.requestTimeout > 0 && server.requestTimeout < server.headersTimeout) {
        server.requestTimeout = server.headersTimeout;
      }
      server.on("upgrade", onUpgrade);
    },
    /**
     * Graceful stop: no new sockets; every client hears server.shutdown and
     * is closed with 1001; resolves when all are gone or the time is up.
     */
    async shutdown(timeoutMs: number): Promise<void> {
      closing = true;
      stopHeartbeat();
      clearInterval(deadline);
      stopLiveness();
      for (const t of graceTimers.values()) clearTimeout(t);
      graceTimers.clear();
      const frame = JSON.stringify({ type: "server.shutdown", reconnect_after_ms: hub.reconnectAfterMs });
      const v1 = version1Text(frame);
      for (const conn of connections) {
        outbox.send(conn, conn.identity.protocol === 1 ? v1 : frame, "server.shutdown");
        metrics.closed("shutdown");
        conn.ws.close(CLOSE.going_away, "server shutting down");
      }
      // Membership held only in this process dies with it, so rooms that live only
      // while their owner is present go too; persistent rooms stay (they live in the database).
      if (!state.shared) {
        await services.rooms.dropNonPersistent().catch((err) => log.warn({ err }, "dropping rooms failed"));
      }
      const until = Date.now() + timeoutMs;
      while (connections.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
      for (const conn of connections) conn.ws.terminate();
      // Let the close handlers of terminated sockets run (presence, stats) before the
      // caller closes the stores they write to.
      const settle = Date.now() + 1000;
      while (connections.size > 0 && Date.now() < settle) await new Promise((r) => setTimeout(r, 10));
      wss.close();
    },
  };
}

export type Hub = ReturnType<typeof createHub>;
