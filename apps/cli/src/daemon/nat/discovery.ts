import { type LocalAddress, localAddresses, sameSubnet } from "./local-addresses.js";
import type { NatType } from "./reasons.js";
import { bindingRequest, parseBindingResponse } from "./stun-client.js";
import type { Candidate } from "./types.js";

type Mapped = { address: string; port: number };

export interface Discovered {
  nat: NatType;
  /** the public address and port the server saw, if any */
  mapped: Mapped | undefined;
  candidates: Candidate[];
}

/**
 * Endpoint discovery from the WireGuard port: STUN Binding to two server ports (three
 * tries each, 300 ms apart, 1.2 s at most), the NAT type from the two answers, and the
 * candidates to offer peers.
 */
export function createDiscovery(o: {
  send(packet: Buffer, host: string, port: number): void;
  serverHost: string;
  listenPort: number;
  fixed?: { host: string; port: number };
}) {
  const waiting = new Map<string, (m: Mapped) => void>();

  const ask = (port: number): Promise<Mapped | undefined> =>
    new Promise((resolve) => {
      const { id, packet } = bindingRequest();
      const hex = id.toString("hex");
      let tries = 0;
      const send = () => {
        if (tries++ < 3) o.send(packet, o.serverHost, port);
      };
      const retry = setInterval(send, 300);
      const done = (m: Mapped | undefined) => {
        clearInterval(retry);
        clearTimeout(giveUp);
        waiting.delete(hex);
        resolve(m);
      };
      const giveUp = setTimeout(() => done(undefined), 1_200);
      waiting.set(hex, done);
      send();
    });

  return {
    /** A STUN message that arrived on the port: the answer some ask() waits for. */
    onStun(msg: Buffer): void {
      const r = parseBindingResponse(msg);
      if (r) waiting.get(r.id)?.({ address: r.address, port: r.port });
    },

    /** Asks the server's STUN ports (none known: type unknown) and classifies the NAT. */
    async discover(stunPorts: number[], locals: LocalAddress[]): Promise<Discovered> {
      const [a, b] = await Promise.all(stunPorts.slice(0, 2).map((p) => ask(p)));
      let nat: NatType = "unknown";
      if (stunPorts.length > 0 && !a && !b) nat = "udp-blocked";
      else if (a && locals.some((l) => l.address === a.address) && a.port === o.listenPort) nat = "none";
      else if (a && b) nat = a.address === b.address && a.port === b.port ? "cone" : "symmetric";
      else if (a || b) nat = "cone";
      const mapped = a ?? b;
      const candidates: Candidate[] = locals.map((l) => ({
        type: "host",
        addr: `${l.address}:${o.listenPort}`,
      }));
      if (mapped && nat !== "none")
        candidates.push({ type: "srflx", addr: `${mapped.address}:${mapped.port}` });
      if (o.fixed) candidates.push({ type: "fixed", addr: `${o.fixed.host}:${o.fixed.port}` });
      return { nat, mapped, candidates };
    },
  };
}

const STUN_EVERY_MS = 25_000;

/**
 * This device's side of every pair: its NAT type, the candidates it offers and its
 * local networks, found again every STUN_EVERY_MS (a Wi-Fi to cellular move changes them).
 */
export function createEndpoint(
  discovery: ReturnType<typeof createDiscovery>,
  o: { interfacePrefix: string; log(line: string): void },
) {
  let nat: NatType = "unknown";
  let candidates: Candidate[] = [];
  let locals: LocalAddress[] = [];
  let last = 0;
  let running = false;
  return {
    get nat() {
      return nat;
    },
    get candidates() {
      return candidates;
    },
    sameLan: (host: string) => locals.some((l) => sameSubnet(l, host)),
    due: (now: number) => now - last > STUN_EVERY_MS,
    /** STUN on both server ports from the WireGuard port; true when the NAT or the candidates changed. */
    async refresh(stunPorts: number[]): Promise<boolean> {
      if (running) return false;
      running = true;
      try {
        last = Date.now();
        locals = localAddresses(o.interfacePrefix);
        const found = await discovery.discover(stunPorts, locals);
        if (found.nat === nat && JSON.stringify(found.candidates) === JSON.stringify(candidates))
          return false;
        const mapped = found.mapped;
        if (found.nat !== nat)
          o.log(`NAT: ${found.nat}${mapped ? ` (public ${mapped.address}:${mapped.port})` : ""}`);
        nat = found.nat;
        candidates = found.candidates;
        return true;
      } finally {
        running = false;
      }
    },
  };
}
