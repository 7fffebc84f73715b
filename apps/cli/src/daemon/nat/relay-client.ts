import {
  decodePacketFrame,
  encodePacketFrame,
  PACKET_KIND,
  REFUSAL,
  type RefusalName,
} from "@warren/protocol";
import WebSocket from "ws";

/** Where this device's packets reach it through the relay: the server instance it is connected to. */
export interface HomeRelay {
  instance: string;
  /** the instance's own URL, when it has one other than the server's */
  url: string | null;
  /** STUN ports the server answers on */
  stun: number[];
}

export interface RelayClientOptions {
  onPacket(fromDevice: string, packet: Buffer): void;
  onRefused(device: string, reason: RefusalName | "unknown"): void;
  onHome(home: HomeRelay): void;
  /** the access token for sockets to other instances (a peer's home relay) */
  accessToken(): Promise<string>;
  deviceId: string;
  /**
   * The server this device signed in to. A peer's home relay on another instance is
   * reached only on this host or a sibling under the same parent domain: the socket
   * carries this device's access token, and a relay URL comes from a peer's offer.
   */
  server: string;
  log(line: string): void;
}

/** True when `url` may receive this device's token: the server's host, or a sibling of it. */
export function trustedRelayUrl(url: string, server: string): boolean {
  let target: URL;
  let home: URL;
  try {
    target = new URL(url);
    home = new URL(server);
  } catch {
    return false;
  }
  if (target.protocol !== home.protocol) return false;
  if (target.hostname === home.hostname) return true;
  const labels = home.hostname.split(".");
  const isName = !/^[\d.]+$/.test(home.hostname) && !home.hostname.includes(":");
  if (!isName || labels.length < 3) return false;
  return target.hostname.endsWith(`.${labels.slice(1).join(".")}`);
}

const REASONS = Object.fromEntries(Object.entries(REFUSAL).map(([k, v]) => [v, k])) as Record<
  number,
  RefusalName
>;

/**
 * The daemon's side of the packet relay. Packets ride the device's own hub socket: the
 * SDK socket is built with the WebSocket class this returns, which says HELLO on every
 * (re)connect and hands binary frames here; text frames go on to the SDK untouched.
 * A peer whose home relay is another instance is reached over one more socket to that
 * instance, opened on first use.
 */
export function createRelayClient(o: RelayClientOptions) {
  let home: WebSocket | undefined;
  let homeInfo: HomeRelay | undefined;
  const away = new Map<string, WebSocket>();

  const onBinary = (data: Buffer) => {
    const kind = data[0];
    if (kind === PACKET_KIND.info) {
      try {
        const info = JSON.parse(data.subarray(1).toString()) as Partial<HomeRelay>;
        homeInfo = { instance: String(info.instance ?? ""), url: info.url ?? null, stun: info.stun ?? [] };
        o.onHome(homeInfo);
      } catch {
        // a malformed INFO changes nothing
      }
      return;
    }
    const frame = decodePacketFrame(data);
    if (!frame) return;
    if (kind === PACKET_KIND.recv) o.onPacket(frame.device, Buffer.from(frame.body));
    else if (kind === PACKET_KIND.refused)
      o.onRefused(frame.device, REASONS[frame.body[0] ?? 0] ?? "unknown");
  };

  /** The WebSocket class for the SDK's hub socket. */
  class RelayWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      home = this;
      this.on("open", () => this.send(Uint8Array.of(PACKET_KIND.hello), { binary: true }));
      this.on("message", (data, isBinary) => {
        if (isBinary) onBinary(data as Buffer);
      });
    }
  }

  const awaySocket = (url: string): WebSocket | undefined => {
    const open = away.get(url);
    if (open && open.readyState <= WebSocket.OPEN) return open;
    void o.accessToken().then((token) => {
      const target = new URL(`${url.replace(/^http/, "ws")}/v1/ws`);
      target.searchParams.set("device", o.deviceId);
      const ws = new WebSocket(target, ["warren.v1"], { headers: { authorization: `Bearer ${token}` } });
      away.set(url, ws);
      // One valid text frame meets the hub's handshake deadline; then pings keep it.
      ws.on("open", () => ws.send(JSON.stringify({ type: "ping" })));
      const keep = setInterval(() => {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "ping" }));
      }, 20_000);
      ws.on("message", (data, isBinary) => {
        if (isBinary) onBinary(data as Buffer);
      });
      ws.on("close", () => {
        clearInterval(keep);
        if (away.get(url) === ws) away.delete(url);
      });
      ws.on("error", (err) => o.log(`relay at ${url}: ${err.message}`));
    });
    return undefined;
  };

  return {
    WebSocket: RelayWebSocket,
    home: () => homeInfo,
    /** Sends one packet to a device through its home relay; false when no socket is open. */
    send(device: string, packet: Buffer, peerHome?: { instance: string; url: string | null }): boolean {
      let ws = home;
      if (peerHome?.url && homeInfo && peerHome.instance !== homeInfo.instance) {
        if (!trustedRelayUrl(peerHome.url, o.server)) return false;
        ws = awaySocket(peerHome.url);
      }
      if (!ws || ws.readyState !== WebSocket.OPEN) return false;
      ws.send(encodePacketFrame(PACKET_KIND.send, device, packet), { binary: true });
      return true;
    },
    close(): void {
      for (const ws of away.values()) ws.close();
      away.clear();
    },
  };
}

export type RelayClient = ReturnType<typeof createRelayClient>;
