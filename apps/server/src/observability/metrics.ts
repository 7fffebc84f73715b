import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/**
 * Prometheus metrics (GET /metrics). The signaling_* names are kept for compatibility
 * with existing dashboards and alerts (docs/operations.md "Metrics").
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  // prom-client names these three gauges *_total, which Prometheus reserves for counters:
  // `promtool check metrics` rejects them. The per-type gauges without the
  // suffix (nodejs_active_handles, …) carry the same numbers.
  for (const name of [
    "nodejs_active_handles_total",
    "nodejs_active_requests_total",
    "nodejs_active_resources_total",
  ])
    registry.removeSingleMetric(name);

  const activeConnections = new Gauge({
    name: "signaling_active_connections",
    help: "WebSocket connections open on this instance",
    registers: [registry],
  });
  // Counted per frame on the hot path: plain numbers here, handed to prom-client at
  // scrape time (its labelled inc() hashes the label set on every call).
  const receivedCounts = typeCounts();
  const sentCounts = typeCounts();
  const flushInto = (counts: TypeCounts) =>
    function (this: Counter) {
      for (const [type, n] of counts.take()) if (n > 0) this.labels(type).inc(n);
    };
  new Counter({
    name: "signaling_messages_received_total",
    help: "Frames received from clients, by type",
    labelNames: ["type"],
    registers: [registry],
    collect: flushInto(receivedCounts),
  });
  new Counter({
    name: "signaling_messages_sent_total",
    help: "Frames sent to clients, by type",
    labelNames: ["type"],
    registers: [registry],
    collect: flushInto(sentCounts),
  });
  const rateLimited = new Counter({
    name: "signaling_rate_limit_exceeded_total",
    help: "Frames refused because the sender was over its rate limit",
    registers: [registry],
  });
  const connectionDuration = new Histogram({
    name: "signaling_connection_duration_seconds",
    help: "How long WebSocket connections stayed open",
    buckets: [1, 10, 60, 300, 900, 3600, 14_400, 86_400],
    registers: [registry],
  });
  const closes = new Counter({
    name: "signaling_connections_closed_total",
    help: "Connections closed by the server, by reason",
    labelNames: ["reason"],
    registers: [registry],
  });
  /** set by the hub: how many rooms have sockets on this instance, read at scrape time */
  let roomCount: () => number = () => 0;
  const rooms = new Gauge({
    name: "warren_rooms_active",
    help: "Rooms with at least one socket on this instance",
    registers: [registry],
    collect() {
      this.set(roomCount());
    },
  });
  /** set at start: whether the bus reaches the other instances (Redis answers), at scrape time */
  let busHealthy: () => boolean = () => true;
  const bus = new Gauge({
    name: "warren_bus_up",
    help: "1 while the bus reaches the other instances (Redis answers, or the in-process bus), else 0",
    registers: [registry],
    collect() {
      this.set(busHealthy() ? 1 : 0);
    },
  });
  const upgradesRejected = new Counter({
    name: "signaling_upgrades_rejected_total",
    help: "WebSocket upgrades refused, by reason",
    labelNames: ["reason"],
    registers: [registry],
  });
  const httpRequests = new Counter({
    name: "http_requests_total",
    help: "HTTP requests, by method, route and status",
    labelNames: ["method", "route", "status"],
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request duration, by method and route",
    labelNames: ["method", "route"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  return {
    registry,
    activeConnections,
    rateLimited,
    connectionDuration,
    rooms,
    countRoomsWith(fn: () => number) {
      roomCount = fn;
    },
    bus,
    watchBusWith(fn: () => boolean) {
      busHealthy = fn;
    },
    httpRequests,
    httpDuration,
    /** type must be a known frame type (validated), so the label set stays small */
    received: (type: string) => receivedCounts.add(type, 1),
    sent: (type: string, n = 1) => sentCounts.add(type, n),
    closed: (
      reason:
        | "slow_client"
        | "abuse"
        | "idle"
        | "heartbeat"
        | "binary"
        | "too_big"
        | "shutdown"
        | "session_ended"
        | "too_many_connections",
    ) => closes.labels(reason).inc(),
    upgradeRejected: (
      reason:
        | "unauthorized"
        | "forbidden_origin"
        | "rate_limited"
        | "shutting_down"
        | "bad_request"
        | "too_many_pending"
        | "bad_version",
    ) => upgradesRejected.labels(reason).inc(),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * Counts by frame type. A run of one type (a burst of relayed frames) adds to one
 * number held aside, and reaches the map when the type changes or the counts are read:
 * one string comparison per frame instead of a map lookup and a store.
 */
function typeCounts() {
  const counts = new Map<string, number>();
  let runType: string | undefined;
  let run = 0;
  const settle = () => {
    if (runType !== undefined) counts.set(runType, (counts.get(runType) ?? 0) + run);
    runType = undefined;
    run = 0;
  };
  return {
    add(type: string, n: number): void {
      if (type !== runType) {
        settle();
        runType = type;
      }
      run += n;
    },
    /** The counts since the last take, emptied. */
    take(): Map<string, number> {
      settle();
      const out = new Map(counts);
      counts.clear();
      return out;
    },
  };
}
type TypeCounts = ReturnType<typeof typeCounts>;
