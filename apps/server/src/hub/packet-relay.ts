import {
  decodePacketFrame,
  encodePacketFrame,
  PACKET_KIND,
  REFUSAL,
  type RefusalName,
  version1Type,
} from "@warren/protocol";
import type { Registry } from "prom-client";
import { Counter, Gauge } from "prom-client";
import type { RawData } from "ws";
import { WebSocket } from "ws";
import type { BusEvent } from "../bus/bus.js";
import type { RelayAccess } from "../services/relay-access.js";
import type { Connection } from "./connection.js";

export interface PacketRelayOptions {
  access: RelayAccess;
  /** bytes per second one device may send; 0 turns the relay off */
  bytesPerSecond: number;
  /** a receiver with this much unsent data gets no more packets until it drains */
  maxQueuedBytes: number;
  instanceId: string;
  /** the base URL devices reach this instance's relay at, when it differs from the one they use */
  url: string | undefined;
  /** the STUN ports devices may ask, told in INFO */
  stunPorts: number[];
  registry: Registry;
}

/**
 * Events after which a relay permission may no longer hold; version-1 names too, which
 * instances not yet upgraded publish.
 */
const REVOKING = new Set(
  ["peer.removed", "member.removed", "network.deleted", "tenant.deleted", "device_deleted"].flatMap(
    (type) => [type, version1Type(type)],
  ),
);
/** A pair counts as active while it carried a packet this recently. */
const ACTIVE_MS = 30_000;

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * The packet relay (docs/protocol.md "Packet relay"): WireGuard packets between
 * devices, in binary frames over their hub sockets, for pairs that have no direct UDP
 * path. It routes by device id among the sockets of this instance only: a device's
 * home relay is the instance it is connected to, and a peer sends there (no packet
 * travels through the bus). Whether a pair may use it is the relay access service's
 * call; this file only moves bytes, counts them and enforces the byte rate.
 */
export function createPacketRelay(o: PacketRelayOptions) {
  const homes = new Map<string, Connection>();
  const buckets = new WeakMap<Connection, Bucket>();
  const pairs = new Map<string, number>();
  const burst = o.bytesPerSecond * 2;

  const bytes = new Counter({
    name: "warren_relay_bytes_total",
    help: "Packet bytes the relay passed on",
    registers: [o.registry],
  });
  const packets = new Counter({
    name: "warren_relay_packets_total",
    help: "Packets the relay passed on",
    registers: [o.registry],
  });
  const refusals = new Counter({
    name: "warren_relay_refusals_total",
    help: "Packets the relay did not pass on, by reason",
    labelNames: ["reason"],
    registers: [o.registry],
  });
  new Gauge({
    name: "warren_relay_active_pairs",
    help: "Ordered device pairs that relayed a packet in the last 30 seconds",
    registers: [o.registry],
    collect() {
      const old = Date.now() - ACTIVE_MS;
      for (const [k, at] of pairs) if (at < old) pairs.delete(k);
      this.set(pairs.size);
    },
  });
  new Gauge({
    name: "warren_relay_devices",
    help: "Devices whose home relay is this instance",
    registers: [o.registry],
    collect() {
      this.set(homes.size);
    },
  });

  const info = Buffer.concat([
    Buffer.from([PACKET_KIND.info]),
    Buffer.from(JSON.stringify({ instance: o.instanceId, url: o.url ?? null, stun: o.stunPorts })),
  ]);

  const sendTo = (conn: Connection, data: Uint8Array) => {
    if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send(data, { binary: true });
  };

  const refuse = (conn: Connection, device: string, reason: RefusalName) => {
    refusals.labels(reason).inc();
    sendTo(conn, encodePacketFrame(PACKET_KIND.refused, device, Uint8Array.of(REFUSAL[reason])));
  };

  /** A token bucket in bytes, per socket. */
  const take = (conn: Connection, n: number): boolean => {
    const now = performance.now();
    let b = buckets.get(conn);
    if (!b) {
      b = { tokens: burst, at: now };
      buckets.set(conn, b);
    }
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * o.bytesPerSecond);
    b.at = now;
    if (b.tokens < n) return false;
    b.tokens -= n;
    return true;
  };

  const forward = (conn: Connection, to: string, body: Uint8Array) => {
    const target = homes.get(to);
    if (!target || target.ws.readyState !== WebSocket.OPEN) return refuse(conn, to, "not_here");
    // A receiver that does not read is not allowed to grow the server's memory.
    if (target.ws.bufferedAmount > o.maxQueuedBytes) {
      refusals.labels("receiver_slow").inc();
      return;
    }
    const from = conn.identity.device;
    sendTo(target, encodePacketFrame(PACKET_KIND.recv, from, body));
    bytes.inc(body.length);
    packets.inc();
    pairs.set(`${from}>${to}`, Date.now());
  };

  return {
    /**
     * Handles a binary frame of the relay (HELLO, SEND); false for any other binary frame
     * or when the relay is off: the hub then closes the socket with 1003 as before.
     */
    receive(conn: Connection, data: RawData): boolean {
      if (o.bytesPerSecond <= 0) return false;
      const buf = Array.isArray(data)
        ? Buffer.concat(data)
        : data instanceof ArrayBuffer
          ? new Uint8Array(data)
          : data;
      const kind = buf[0];
      if (kind !== PACKET_KIND.hello && kind !== PACKET_KIND.send) return false;
      conn.missed = 0;
      if (kind === PACKET_KIND.hello) {
        homes.set(conn.identity.device, conn);
        sendTo(conn, info);
        return true;
      }
      const frame = kind === PACKET_KIND.send ? decodePacketFrame(buf) : undefined;
      if (!frame) {
        refusals.labels("bad_frame").inc();
        return true;
      }
      if (!take(conn, frame.body.length)) {
        refuse(conn, frame.device, "rate_limited");
        return true;
      }
      const { userId, device } = conn.identity;
      const ok = o.access.allowed(userId, device, frame.device);
      if (ok === true) forward(conn, frame.device, frame.body);
      else if (ok === false) refuse(conn, frame.device, "not_allowed");
      else
        ok.then(
          (yes) =>
            yes ? forward(conn, frame.device, frame.body) : refuse(conn, frame.device, "not_allowed"),
          () => refusals.labels("unavailable").inc(),
        );
      return true;
    },
    /** A membership change: answers given before it no longer count. */
    observe(event: BusEvent): void {
      if (event.kind === "frame" && event.type !== undefined && REVOKING.has(event.type)) o.access.forget();
      else if (event.kind === "topics.remove") o.access.forget();
    },
    closed(conn: Connection): void {
      const device = conn.identity.device;
      if (homes.get(device) === conn) homes.delete(device);
    },
  };
}

export type PacketRelay = ReturnType<typeof createPacketRelay>;
