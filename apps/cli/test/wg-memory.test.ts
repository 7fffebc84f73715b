import { describe, expect, it } from "vitest";
import { createBackend, type InterfaceSpec } from "../src/wg/backend.js";
import { generateWireGuardKeys } from "../src/wg/keys.js";
import type { MemoryBackend } from "../src/wg/memory-backend.js";
import { recordingRunner } from "../src/wg/runner.js";

/** The memory backend: the desired state kept as given, checked as the Linux backend checks it. */
describe("memory WireGuard backend", () => {
  const me = generateWireGuardKeys();
  const peer = generateWireGuardKeys();
  const spec = (over: Partial<InterfaceSpec> = {}): InterfaceSpec => ({
    name: "wt1",
    privateKey: me.privateKey,
    listenPort: 51820,
    address: "10.9.0.2/24",
    cidr: "10.9.0.0/24",
    peers: [{ publicKey: peer.publicKey, allowedIps: ["10.9.0.3/32"], endpoint: "192.0.2.1:51820" }],
    ...over,
  });

  it("is chosen by kind, on any platform, and runs no command", async () => {
    const runner = recordingRunner();
    const backend = createBackend(runner, "darwin", { kind: "memory" });
    expect(await backend.apply(spec())).toEqual({ created: true, commands: 1 });
    expect(await backend.apply(spec())).toEqual({ created: false, commands: 0 });
    expect(runner.calls).toEqual([]);
  });

  it("answers status and exists from the last spec, and records applies and removals", async () => {
    const backend = createBackend(recordingRunner(), "linux", { kind: "memory" });
    expect(await backend.exists("wt1")).toBe(false);
    expect(await backend.status("wt1")).toBeNull();
    await backend.apply(spec());
    // No port given: the interface keeps the one it has, as on Linux.
    await backend.apply(spec({ listenPort: undefined, peers: [] }));
    expect(await backend.status("wt1")).toEqual({
      name: "wt1",
      publicKey: me.publicKey,
      listenPort: 51820,
      addresses: ["10.9.0.2/24"],
      peers: [],
    });
    expect(await backend.remove("wt1")).toBe(true);
    expect(await backend.remove("wt1")).toBe(false);
    expect(await backend.exists("wt1")).toBe(false);
    const memory = backend as MemoryBackend;
    expect(memory.history.map((c) => c.op)).toEqual(["apply", "apply", "remove"]);
    expect(memory.history[0]?.spec?.peers[0]?.endpoint).toBe("192.0.2.1:51820");
    expect(memory.interfaces.size).toBe(0);
  });

  it("refuses what the Linux backend would refuse", async () => {
    const backend = createBackend(recordingRunner(), "linux", { kind: "memory" });
    await expect(backend.apply(spec({ name: "a/b" }))).rejects.toThrow(/not an interface name/);
    await expect(backend.apply(spec({ privateKey: "short" }))).rejects.toThrow(/32 bytes/);
    await expect(
      backend.apply(spec({ peers: [{ publicKey: peer.publicKey, allowedIps: [], endpoint: "nope" }] })),
    ).rejects.toThrow(/not "host:port"/);
  });
});
