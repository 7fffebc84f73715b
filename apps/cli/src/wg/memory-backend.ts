import type { ApplyResult, InterfaceSpec, InterfaceStatus, WireGuardBackend } from "./backend.js";
import { wireGuardPublicKey } from "./keys.js";
import { validateName, validateSpec } from "./plan.js";

/**
 * A WireGuard backend that keeps the desired state it is given in memory and touches
 * nothing on the machine: for tests of the daemon (no root, no wireguard-go) and for
 * looking at what the daemon would set up. It checks specs as the Linux backend does,
 * so a spec that backend would refuse fails here too.
 */
export interface MemoryChange {
  op: "apply" | "remove";
  name: string;
  /** the spec applied; absent for a removal */
  spec?: InterfaceSpec;
}

export interface MemoryBackend extends WireGuardBackend {
  /** per interface that exists: the last spec applied to it */
  readonly interfaces: ReadonlyMap<string, InterfaceSpec>;
  /** every apply and every removal of an existing interface, oldest first */
  readonly history: readonly MemoryChange[];
}

const copy = (spec: InterfaceSpec): InterfaceSpec => ({
  ...spec,
  peers: spec.peers.map((p) => ({ ...p, allowedIps: [...p.allowedIps] })),
});

export function createMemoryBackend(): MemoryBackend {
  const interfaces = new Map<string, InterfaceSpec>();
  const history: MemoryChange[] = [];

  return {
    interfaces,
    history,
    async apply(spec: InterfaceSpec): Promise<ApplyResult> {
      validateSpec(spec);
      const before = interfaces.get(spec.name);
      const kept = copy(spec);
      // As on Linux: a spec without a port keeps the interface's port.
      if (kept.listenPort === undefined && before?.listenPort !== undefined)
        kept.listenPort = before.listenPort;
      interfaces.set(spec.name, kept);
      history.push({ op: "apply", name: spec.name, spec: copy(kept) });
      const same = before !== undefined && JSON.stringify(before) === JSON.stringify(kept);
      return { created: before === undefined, commands: same ? 0 : 1 };
    },
    async remove(name: string): Promise<boolean> {
      validateName(name);
      if (!interfaces.delete(name)) return false;
      history.push({ op: "remove", name });
      return true;
    },
    async status(name: string): Promise<InterfaceStatus | null> {
      const spec = interfaces.get(validateName(name));
      if (!spec) return null;
      return {
        name,
        publicKey: wireGuardPublicKey(spec.privateKey),
        listenPort: spec.listenPort ?? 0,
        addresses: [spec.address],
        peers: spec.peers.map((p) => ({
          publicKey: p.publicKey,
          endpoint: p.endpoint ?? null,
          allowedIps: [...p.allowedIps],
          latestHandshake: null,
          rxBytes: 0,
          txBytes: 0,
        })),
      };
    },
    async exists(name: string): Promise<boolean> {
      return interfaces.has(validateName(name));
    },
  };
}
