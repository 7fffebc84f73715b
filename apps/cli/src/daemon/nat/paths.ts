import { randomBytes } from "node:crypto";
import type { RemoteInfo, Socket } from "node:dgram";
import { decodeCheck, encodeCheck, isCheck, PING, PONG } from "./checks.js";
import { createDiscovery, createEndpoint } from "./discovery.js";
import { splitAddr, validCandidates, validKey, validNat, validRelay } from "./offer-input.js";
import {
  bindPublic,
  CHECK_EVERY_MS,
  CHECK_MS,
  concludeChecks,
  DIRECT_DEAD_MS,
  initToResend,
  KEEPALIVE_MS,
  newPeerPath,
  openLocal,
  type PeerPath,
  peerStatus,
  retryDue,
} from "./peer-path.js";
import { type CandidateType, directReason, PRIORITY } from "./reasons.js";
import type { HomeRelay, RelayClient } from "./relay-client.js";
import { isStun } from "./stun-client.js";
import type { Offer, PathsStatus, PeerInfo } from "./types.js";

export { validCandidates } from "./offer-input.js";
export type { Candidate, Offer, PathsStatus, PeerInfo, PeerPathStatus } from "./types.js";

const TICK_MS = 200;
const LOST = "relay: direct path lost, retrying";

export interface PathManagerOptions {
  networkId: string;
  deviceId: string;
  /** the UDP port this device is reached at: the forwarder owns it */
  listenPort: number;
  /** where WireGuard listens, on loopback */
  wgPort: number;
  /** the server's address, for STUN */
  serverHost: string;
  relay: RelayClient;
  /** `--endpoint`: a fixed candidate (a forwarded port) */
  fixed?: { host: string; port: number };
  /** interfaces whose addresses are not candidates (the tunnels themselves) */
  interfacePrefix: string;
  signal(peer: PeerInfo, offer: Offer): void;
  onChange?(): void;
  log(line: string): void;
}

/**
 * The data path of one network interface: a userspace forwarder between WireGuard and
 * the network, in the way of NetBird's wgproxy. WireGuard listens on loopback and each
 * of its peers has a loopback socket of ours as endpoint; this forwarder owns the
 * public UDP port, so STUN learns the mapping of the port that carries WireGuard, and
 * connectivity checks leave from it too (hole punching). For each peer it sends
 * WireGuard's packets either straight to the peer's working address or through the
 * relay, and can switch between the two at any moment without touching WireGuard:
 * the tunnel never drops. A pair starts on the relay, moves to a direct path when a
 * check succeeds, and falls back to the relay when that path stops answering.
 */
export function createPathManager(o: PathManagerOptions) {
  const key = randomBytes(9).toString("base64url");
  const peers = new Map<string, PeerPath>();
  const byDevice = new Map<string, PeerPath>();
  const byAddr = new Map<string, PeerPath>();
  const early = new Map<string, Offer>();
  const discovery = createDiscovery({
    send: (packet, host, port) => sendExt(packet, host, port),
    serverHost: o.serverHost,
    listenPort: o.listenPort,
    fixed: o.fixed,
  });
  const endpoint = createEndpoint(discovery, { interfacePrefix: o.interfacePrefix, log: o.log });
  let ext: Socket | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const changed = () => o.onChange?.();

  const home = (): HomeRelay | undefined => o.relay.home();

  const sendExt = (packet: Buffer, host: string, port: number) => {
    if (!ext || closed) return;
    try {
      ext.send(packet, port, host);
    } catch {
      // a socket closing under us: the packet is lost, as on the wire
    }
  };

  /** This device's candidates again; peers hear of a change at once. */
  async function discover(): Promise<void> {
    if (closed || !(await endpoint.refresh(home()?.stun ?? []))) return;
    for (const p of peers.values()) offer(p, false);
    changed();
  }

  const offer = (p: PeerPath, reply: boolean) => {
    const h = home();
    o.signal(p.info, {
      warren: "paths/1",
      network: o.networkId,
      key,
      nat: endpoint.nat,
      candidates: endpoint.candidates,
      relay: h ? { instance: h.instance, url: h.url } : null,
      reply,
    });
  };

  function onOffer(fromDevice: string, msg: Offer): void {
    const p = byDevice.get(fromDevice);
    if (!p) {
      // A device not in our peer list yet (its peer_added is on the way): kept, bounded.
      if (early.size >= 256) early.delete(early.keys().next().value as string);
      early.set(fromDevice, msg);
      return;
    }
    // A peer's offer is checked like any input from the network: a bad one is ignored.
    if (!validKey(msg.key)) return;
    const fresh = p.theirKey !== msg.key;
    p.theirKey = msg.key;
    if (fresh) {
      // A restarted peer: addresses proven by its old key no longer count.
      for (const a of p.verified) if (byAddr.get(a) === p && p.direct?.addr !== a) byAddr.delete(a);
      p.verified.clear();
    }
    p.candidates = validCandidates(msg.candidates);
    p.peerNat = validNat(msg.nat);
    p.home = validRelay(msg.relay);
    if (fresh) p.prflx.clear();
    if (!msg.reply) offer(p, true);
    startChecks(p);
    changed();
  }

  const startChecks = (p: PeerPath) => {
    p.checkUntil = Date.now() + CHECK_MS;
    p.lastCheck = 0;
    p.checking = true;
    // A retry keeps the reason the last round found; only the first round says "checking".
    if (p.mode === "relay" && !p.concluded && p.reason !== LOST)
      p.reason = "relay: checking for a direct path";
    checkRound(p);
  };

  const ping = (p: PeerPath, addr: string) => {
    if (!p.theirKey) return;
    const txid = randomBytes(8).toString("hex");
    const now = Date.now();
    p.pings.set(txid, { addr, at: now });
    if (p.lastPingTo.size >= 64) p.lastPingTo.clear();
    p.lastPingTo.set(addr, now);
    if (p.pings.size > 64) p.pings.delete(p.pings.keys().next().value as string);
    const { host, port } = splitAddr(addr);
    sendExt(encodeCheck({ kind: PING, txid, key: p.theirKey, device: o.deviceId }), host, port);
  };

  const checkRound = (p: PeerPath) => {
    p.lastCheck = Date.now();
    for (const c of p.candidates) ping(p, c.addr);
    for (const a of p.prflx) ping(p, a);
  };

  const typeOf = (p: PeerPath, addr: string): CandidateType =>
    p.candidates.find((c) => c.addr === addr)?.type ?? "prflx";

  const useDirect = (p: PeerPath, addr: string, type: CandidateType, rtt: number) => {
    const { host, port } = splitAddr(addr);
    if (p.direct && !p.verified.has(p.direct.addr)) byAddr.delete(p.direct.addr);
    p.direct = { addr, host, port, type, lastPong: Date.now() };
    byAddr.set(addr, p);
    const was = p.mode;
    p.mode = "direct";
    p.rtt = rtt;
    p.since = Date.now();
    p.reason = directReason({
      type,
      sameLan: type === "host" && endpoint.sameLan(host),
      myNat: endpoint.nat,
      peerNat: p.peerNat ?? "unknown",
    });
    o.log(`${p.info.name}: ${was === "relay" ? "relay → direct" : "direct"} via ${addr} (${p.reason})`);
    changed();
  };

  const fallBack = (p: PeerPath, why: string) => {
    p.mode = "relay";
    p.since = Date.now();
    p.rtt = null;
    p.reason = why;
    o.log(`${p.info.name}: direct → relay (${why})`);
    offer(p, false);
    startChecks(p);
    changed();
  };

  function onCheck(msg: Buffer, rinfo: RemoteInfo): void {
    const c = decodeCheck(msg);
    if (!c || c.key !== key) return;
    const p = byDevice.get(c.device);
    if (!p) return;
    const addr = `${rinfo.address}:${rinfo.port}`;
    // A check with our key proves the address is the peer's: WireGuard packets from it
    // are taken at once, even before this side has picked a direct path itself (the
    // other side may switch first).
    if (!byAddr.has(addr) && p.verified.size < 8) {
      p.verified.add(addr);
      byAddr.set(addr, p);
    }
    if (c.kind === PING) {
      if (p.theirKey) {
        sendExt(
          encodeCheck({ kind: PONG, txid: c.txid, key: p.theirKey, device: o.deviceId }),
          rinfo.address,
          rinfo.port,
        );
      }
      // The peer reached us from there: check that way too (this opens our side of a NAT).
      if (!p.candidates.some((x) => x.addr === addr) && p.prflx.size < 8) p.prflx.add(addr);
      if (p.direct?.addr !== addr && Date.now() - (p.lastPingTo.get(addr) ?? 0) > 200) ping(p, addr);
      return;
    }
    if (c.kind !== PONG) return;
    const sent = p.pings.get(c.txid);
    if (!sent) return;
    p.pings.delete(c.txid);
    const rtt = Date.now() - sent.at;
    if (p.direct?.addr === addr) {
      p.direct.lastPong = Date.now();
      p.rtt = rtt;
    }
    const type = typeOf(p, addr);
    if (
      p.mode === "relay" ||
      (p.direct && p.direct.addr !== addr && PRIORITY[type] > PRIORITY[p.direct.type])
    ) {
      useDirect(p, addr, type, rtt);
    }
  }

  /** Hands a packet to WireGuard from the peer's loopback socket (closed: dropped). */
  const toWireGuard = (p: PeerPath, packet: Buffer) => {
    try {
      p.local.send(packet);
    } catch {
      // the peer was just removed and its socket closed
    }
  };

  const fromNetwork = (msg: Buffer, rinfo: RemoteInfo) => {
    if (msg[0] === 0x57 && isCheck(msg)) return onCheck(msg, rinfo);
    const p = byAddr.get(`${rinfo.address}:${rinfo.port}`);
    if (p) {
      toWireGuard(p, msg);
      return;
    }
    if (isStun(msg)) discovery.onStun(msg);
    // Anything else from an address no pair uses is dropped.
  };

  /** A packet for WireGuard that came through the relay. */
  function fromRelay(device: string, packet: Buffer): boolean {
    const p = byDevice.get(device);
    if (!p) return false;
    toWireGuard(p, packet);
    return true;
  }

  const fromWireGuard = (p: PeerPath) => (msg: Buffer) => {
    const d = p.direct;
    if (p.mode === "direct" && d) sendExt(msg, d.host, d.port);
    else {
      // A handshake initiation (type 1, 148 bytes) is kept a moment: if the relay says
      // the peer is not connected yet, it is sent again instead of waiting for
      // WireGuard's own retry 5 s later.
      if (msg.length === 148 && msg[0] === 1) p.lastInit = { packet: msg, at: Date.now(), resent: 0 };
      o.relay.send(p.info.deviceId, msg, p.home ?? undefined);
    }
  };

  /** Makes the pairs match the network's peers; returns each peer's WireGuard endpoint. */
  async function setPeers(list: PeerInfo[]): Promise<Map<string, string>> {
    const wanted = new Set(list.map((p) => p.publicKey));
    for (const [k, p] of peers) {
      if (wanted.has(k)) continue;
      peers.delete(k);
      byDevice.delete(p.info.deviceId);
      if (p.direct) byAddr.delete(p.direct.addr);
      for (const a of p.verified) if (byAddr.get(a) === p) byAddr.delete(a);
      p.local.close();
    }
    for (const info of list) {
      const had = peers.get(info.publicKey);
      if (had) {
        had.info = info;
        continue;
      }
      const { socket, port } = await openLocal(o.wgPort);
      const p = newPeerPath(info, socket, port);
      socket.on("message", fromWireGuard(p));
      peers.set(info.publicKey, p);
      byDevice.set(info.deviceId, p);
      if (ext) offer(p, false);
      const waiting = early.get(info.deviceId);
      if (waiting) {
        early.delete(info.deviceId);
        onOffer(info.deviceId, waiting);
      }
    }
    changed();
    return new Map([...peers].map(([k, p]) => [k, `127.0.0.1:${p.localPort}`]));
  }

  const tick = () => {
    const now = Date.now();
    for (const p of peers.values()) {
      if (now < p.checkUntil && now - p.lastCheck >= CHECK_EVERY_MS) checkRound(p);
      if (p.mode === "direct" && p.direct) {
        if (now - p.direct.lastPong > DIRECT_DEAD_MS) {
          fallBack(p, LOST);
          continue;
        }
        if (now - p.lastKeepalive >= KEEPALIVE_MS) {
          p.lastKeepalive = now;
          ping(p, p.direct.addr);
        }
      } else {
        if (concludeChecks(p, now, endpoint.nat)) changed();
        if (retryDue(p, now)) {
          offer(p, false);
          if (p.theirKey !== undefined) startChecks(p);
        }
      }
    }
    if (endpoint.due(now)) void discover();
  };

  return {
    key,
    /** Binds the public port and finds this device's candidates. */
    async start(): Promise<void> {
      ext = await bindPublic(o.listenPort, o.log);
      ext.on("message", fromNetwork);
      timer = setInterval(tick, TICK_MS);
      // Wait a little for the home relay's INFO: it names the STUN ports.
      for (let i = 0; i < 20 && !home(); i++) await new Promise((r) => setTimeout(r, 100));
      await discover();
      for (const p of peers.values()) offer(p, false);
    },
    setPeers,
    onOffer,
    fromRelay,
    /** The relay could not deliver to that device (not connected, not allowed, over the rate). */
    refused(device: string, reason: string): void {
      const p = byDevice.get(device);
      if (p?.mode !== "relay") return;
      const init = reason === "not_here" ? initToResend(p, Date.now()) : undefined;
      if (init) {
        setTimeout(() => {
          if (!closed && p.mode === "relay") o.relay.send(p.info.deviceId, init, p.home ?? undefined);
        }, 400).unref();
        return;
      }
      if (reason !== "rate_limited" && reason !== "not_here") p.reason = `relay: refused (${reason})`;
    },
    status(): PathsStatus {
      const h = home();
      return {
        nat: endpoint.nat,
        candidates: endpoint.candidates,
        home_relay: h?.instance ?? null,
        peers: [...peers.values()].map((p) =>
          peerStatus(p, {
            sameLan: endpoint.sameLan,
            fixed: o.fixed !== undefined,
            nat: endpoint.nat,
            home: h?.instance ?? null,
          }),
        ),
      };
    },
    close(): void {
      closed = true;
      clearInterval(timer);
      for (const p of peers.values()) p.local.close();
      peers.clear();
      byDevice.clear();
      byAddr.clear();
      ext?.close();
      ext = undefined;
    },
  };
}

export type PathManager = ReturnType<typeof createPathManager>;
