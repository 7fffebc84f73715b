import { createSocket, type Socket } from "node:dgram";
import { type CandidateType, type NatType, relayReason } from "./reasons.js";
import type { Candidate, PeerInfo, PeerPathStatus } from "./types.js";

/** A check round lasts this long, pinging every candidate every CHECK_EVERY_MS. */
export const CHECK_MS = 5_000;
export const CHECK_EVERY_MS = 400;
/** On a direct path: a ping this often; no pong for DIRECT_DEAD_MS and the pair falls back. */
export const KEEPALIVE_MS = 2_000;
export const DIRECT_DEAD_MS = 6_000;
/** A relayed pair asks for new checks this often (with jitter), for as long as it is relayed. */
export const RETRY_MS = 8_000;

/** Where one pair of devices stands: its path, the evidence for it, and its loopback socket. */
export interface PeerPath {
  info: PeerInfo;
  /** WireGuard's endpoint for this peer: a loopback socket of ours */
  local: Socket;
  localPort: number;
  theirKey: string | undefined;
  candidates: Candidate[];
  /** addresses the peer's checks came from that it did not announce (peer-reflexive) */
  prflx: Set<string>;
  peerNat: NatType | undefined;
  home: { instance: string; url: string | null } | null;
  mode: "direct" | "relay";
  direct: { addr: string; host: string; port: number; type: CandidateType; lastPong: number } | undefined;
  reason: string;
  rtt: number | null;
  since: number;
  checkUntil: number;
  lastCheck: number;
  /** a check round is running */
  checking: boolean;
  /** a round ended: the reason says why the pair is relayed */
  concluded: boolean;
  lastKeepalive: number;
  nextRetry: number;
  /** addresses the peer's checks came from, whose WireGuard packets are accepted */
  verified: Set<string>;
  /** the last WireGuard handshake initiation sent through the relay */
  lastInit: { packet: Buffer; at: number; resent: number } | undefined;
  /** txid → where the ping went and when */
  pings: Map<string, { addr: string; at: number }>;
  lastPingTo: Map<string, number>;
}

/** A new pair starts on the relay, waiting for the peer's candidates. */
export function newPeerPath(info: PeerInfo, local: Socket, localPort: number): PeerPath {
  const now = Date.now();
  return {
    info,
    local,
    localPort,
    theirKey: undefined,
    candidates: [],
    prflx: new Set(),
    peerNat: undefined,
    home: null,
    mode: "relay",
    direct: undefined,
    reason: "relay: waiting for the peer's candidates",
    rtt: null,
    since: now,
    checkUntil: 0,
    lastCheck: 0,
    checking: false,
    concluded: false,
    lastInit: undefined,
    verified: new Set(),
    lastKeepalive: 0,
    nextRetry: now + RETRY_MS * (0.5 + Math.random()),
    pings: new Map(),
    lastPingTo: new Map(),
  };
}

const BUFFERS = { recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 };

/**
 * A peer's loopback socket, connected to WireGuard's port: sends need no address
 * (no lookup per packet) and only WireGuard's packets come in. Errors (WireGuard not
 * listening yet: ECONNREFUSED) are dropped like the packets they concern.
 */
export const openLocal = (wgPort: number): Promise<{ socket: Socket; port: number }> =>
  new Promise((resolve, reject) => {
    const socket = createSocket({ type: "udp4", ...BUFFERS });
    socket.once("error", reject);
    socket.bind(0, "127.0.0.1", () => {
      socket.connect(wgPort, "127.0.0.1", () => {
        socket.off("error", reject);
        socket.on("error", () => {});
        resolve({ socket, port: socket.address().port });
      });
    });
  });

/** The device's public UDP port, which the forwarder owns (WireGuard sits behind it). */
export const bindPublic = (port: number, log: (line: string) => void): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const socket = createSocket({ type: "udp4", ...BUFFERS });
    socket.once("error", reject);
    socket.bind(port, "0.0.0.0", () => {
      socket.off("error", reject);
      socket.on("error", (err) => log(`UDP port ${port}: ${err.message}`));
      resolve(socket);
    });
  });

/** What `warren status` shows of a pair: its path, where it goes, and why. */
export function peerStatus(
  p: PeerPath,
  ctx: { sameLan(host: string): boolean; fixed: boolean; nat: NatType; home: string | null },
): PeerPathStatus {
  const direct = p.mode === "direct" ? p.direct : undefined;
  const local = !direct
    ? "relay"
    : direct.type === "host" && ctx.sameLan(direct.host)
      ? "host"
      : ctx.fixed
        ? "fixed"
        : ctx.nat === "none"
          ? "host"
          : "srflx";
  return {
    public_key: p.info.publicKey,
    device_id: p.info.deviceId,
    name: p.info.name,
    path: p.mode,
    endpoint: direct?.addr ?? null,
    local_candidate: local,
    relay_instance: direct ? null : (p.home?.instance ?? ctx.home),
    reason: p.reason,
    rtt_ms: p.rtt,
    since: new Date(p.since).toISOString(),
  };
}

/** A relayed pair's check round ran out: its reason now says why it stays relayed. True if that changed. */
export function concludeChecks(p: PeerPath, now: number, myNat: NatType): boolean {
  if (!p.checking || now < p.checkUntil) return false;
  p.checking = false;
  p.concluded = true;
  const reason = relayReason({ myNat, peerNat: p.peerNat, heardFromPeer: p.theirKey !== undefined });
  if (reason === p.reason) return false;
  p.reason = reason;
  return true;
}

/** A relayed pair offers again now and then (with jitter): true when it is time to. */
export function retryDue(p: PeerPath, now: number): boolean {
  if (now < p.nextRetry) return false;
  p.nextRetry = now + RETRY_MS * (0.75 + Math.random() * 0.5);
  return p.theirKey === undefined || now >= p.checkUntil;
}

/**
 * The relay could not deliver yet (the peer is not connected there): a handshake
 * initiation sent a moment ago is sent again, a few times, instead of waiting for
 * WireGuard's own retry 5 s later.
 */
export function initToResend(p: PeerPath, now: number): Buffer | undefined {
  const init = p.lastInit;
  if (!init || now - init.at >= 5_000 || init.resent >= 8) return undefined;
  init.resent += 1;
  return init.packet;
}
