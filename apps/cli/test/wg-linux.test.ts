import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBackend, type InterfaceSpec, type WireGuardBackend } from "../src/wg/backend.js";
import { generateWireGuardKeys } from "../src/wg/keys.js";
import { type CommandRunner, namespacedRunner, type RecordedCall, systemRunner } from "../src/wg/runner.js";

/**
 * The Linux backend against real WireGuard: two network namespaces joined by a veth
 * pair, a WireGuard interface in each: the kernel module where there is one, else
 * wireguard-go (CI's kernel has none, so there it is wireguard-go). Needs root,
 * wireguard-go, wireguard-tools, iproute2 and ping; WARREN_TEST_WIREGUARD=1 includes
 * it. Without it the suite is not registered (as the PostgreSQL runs are not without
 * WARREN_TEST_POSTGRES); the systemRunner tests above it need none of that and always run.
 *
 * wireguard-go's UAPI socket is /var/run/wireguard/<name>.sock in every namespace, so
 * the two interfaces have different names even though they live apart.
 */
const enabled = Boolean(process.env.WARREN_TEST_WIREGUARD);
if (!enabled) {
  console.warn(
    "WireGuard backend suite not run: set WARREN_TEST_WIREGUARD=1 (root, wireguard-go, wireguard-tools) to include it",
  );
}

const system = systemRunner();

/** A runner that also notes what it ran, to tell reads from changes. */
function tapped(runner: CommandRunner): CommandRunner & { calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  return {
    calls,
    run(cmd, args, options) {
      calls.push({ cmd, args });
      return runner.run(cmd, args, options);
    },
  };
}

const line = (c: RecordedCall) => [c.cmd, ...c.args].join(" ");

/** Polls until `probe` is true; throws after `timeoutMs`. */
async function eventually(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

// Always registered: the runner every OS call goes through, against real programs.
describe("systemRunner", () => {
  it("hands input to a command as a real pipe, so `wg … private-key /dev/stdin` can open it", async () => {
    // Node's own stdin for children is a socketpair; open(2) of /dev/stdin on one fails (ENXIO).
    const r = await system.run("sh", ["-c", 'cat /dev/stdin; ls -l /proc/self/fd/0 | grep -o "pipe:"'], {
      input: "a key\n",
    });
    expect(r).toEqual({ code: 0, stdout: "a key\npipe:\n", stderr: "" });
  });

  it("passes arguments as they are: nothing is parsed by a shell", async () => {
    const odd = ["$(id)", "a b", "'", '"', ";", "*"];
    expect((await system.run("printf", ["%s\n", ...odd])).stdout).toBe(`${odd.join("\n")}\n`);
    expect((await system.run("printf", ["%s\n", ...odd], { input: "" })).stdout).toBe(`${odd.join("\n")}\n`);
  });

  it("throws on a non-zero exit, naming the command and its stderr, unless failure is allowed", async () => {
    await expect(system.run("sh", ["-c", "echo nope >&2; exit 3"])).rejects.toThrow(
      "sh -c echo nope >&2; exit 3 failed: nope",
    );
    expect(await system.run("sh", ["-c", "exit 3"], { allowFailure: true })).toEqual({
      code: 3,
      stdout: "",
      stderr: "",
    });
    expect(await system.run("no-such-program-here", [], { allowFailure: true })).toMatchObject({ code: 127 });
    await expect(system.run("no-such-program-here", [])).rejects.toThrow(/command not found/);
    expect((await system.run("sh", ["-c", 'echo "$X"'], { env: { X: "set" } })).stdout).toBe("set\n");
  });
});

interface End {
  ns: string;
  ifname: string;
  underlay: string;
  port: number;
  runner: CommandRunner & { calls: RecordedCall[] };
  backend: WireGuardBackend;
  keys: { privateKey: string; publicKey: string };
  address: string;
}

if (enabled) {
  describe("Linux backend on wireguard-go in two network namespaces", () => {
    const tag = String(process.pid % 100_000);
    const subnet = `192.168.${150 + (process.pid % 50)}`;
    const cidr = "10.77.0.0/24";
    const make = (side: "a" | "b", n: number): End => {
      const ns = `wt${side}${tag}`;
      const runner = tapped(namespacedRunner(ns, system));
      return {
        ns,
        ifname: `wt${side}${tag}`,
        underlay: `${subnet}.${n}`,
        port: 51819 + n,
        runner,
        backend: createBackend(runner, "linux"),
        keys: generateWireGuardKeys(),
        address: `10.77.0.${n}/24`,
      };
    };
    const a = make("a", 1);
    const b = make("b", 2);

    const inNs = (end: End, cmd: string, args: string[]) =>
      system.run("ip", ["netns", "exec", end.ns, cmd, ...args], { allowFailure: true });
    const spec = (self: End, other: End): InterfaceSpec => ({
      name: self.ifname,
      privateKey: self.keys.privateKey,
      listenPort: self.port,
      address: self.address,
      cidr,
      peers: [
        {
          publicKey: other.keys.publicKey,
          allowedIps: [`${other.address.split("/")[0]}/32`],
          endpoint: `${other.underlay}:${other.port}`,
          persistentKeepalive: 25,
        },
      ],
    });
    const ifindex = async (end: End) => {
      const r = await inNs(end, "ip", ["-o", "link", "show", "dev", end.ifname]);
      return r.code === 0 ? Number(r.stdout.split(":")[0]) : null;
    };
    const pings = async (from: End, to: End) =>
      (await inNs(from, "ping", ["-c", "1", "-W", "1", to.address.split("/")[0] as string])).code === 0;
    const bothPing = async () => {
      await eventually(() => pings(a, b), 10_000, `ping ${b.address} from ${a.ns}`);
      await eventually(() => pings(b, a), 10_000, `ping ${a.address} from ${b.ns}`);
    };

    beforeAll(async () => {
      for (const end of [a, b]) {
        await system.run("ip", ["netns", "add", end.ns]);
        await system.run("ip", ["-n", end.ns, "link", "set", "lo", "up"]);
      }
      await system.run("ip", [
        "-n",
        a.ns,
        "link",
        "add",
        "eth0",
        "type",
        "veth",
        "peer",
        "name",
        "eth0",
        "netns",
        b.ns,
      ]);
      for (const end of [a, b]) {
        await system.run("ip", ["-n", end.ns, "addr", "add", `${end.underlay}/24`, "dev", "eth0"]);
        await system.run("ip", ["-n", end.ns, "link", "set", "eth0", "up"]);
      }
    });

    afterAll(async () => {
      for (const end of [a, b]) {
        // The interface first, so wireguard-go sees its TUN device go and exits; then any
        // process of ours still in the namespace, which would otherwise keep it alive.
        await inNs(end, "ip", ["link", "del", "dev", end.ifname]);
        const pids = await system.run("ip", ["netns", "pids", end.ns], { allowFailure: true });
        for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
          try {
            process.kill(Number(pid), "SIGTERM");
          } catch {}
        }
        await system.run("ip", ["netns", "del", end.ns], { allowFailure: true });
      }
    });

    let indexA: number | null = null;
    let indexB: number | null = null;

    it("brings both ends up and they ping over the tunnel", async () => {
      expect(await a.backend.exists(a.ifname)).toBe(false);
      const started = Date.now();
      expect(await a.backend.apply(spec(a, b))).toMatchObject({ created: true });
      const took = Date.now() - started;
      expect(await b.backend.apply(spec(b, a))).toMatchObject({ created: true });
      const ran = a.runner.calls.map(line);
      expect(ran).toContain(`ip link add dev ${a.ifname} type wireguard`);
      const userspace = ran.includes(`wireguard-go ${a.ifname}`);
      console.info(`fresh apply with ${userspace ? "wireguard-go" : "the kernel module"} took ${took} ms`);
      if (userspace) expect(existsSync(`/var/run/wireguard/${a.ifname}.sock`)).toBe(true);

      await bothPing();
      indexA = await ifindex(a);
      indexB = await ifindex(b);
      const routes = await inNs(a, "ip", ["-4", "route", "show", "dev", a.ifname]);
      expect(routes.stdout).toMatch(/^10\.77\.0\.0\/24 /m);

      const status = await a.backend.status(a.ifname);
      expect(status).toMatchObject({ name: a.ifname, publicKey: a.keys.publicKey, listenPort: a.port });
      expect(status?.addresses).toEqual([a.address]);
      expect(status?.peers).toHaveLength(1);
      const peer = status?.peers[0];
      expect(peer).toMatchObject({
        publicKey: b.keys.publicKey,
        endpoint: `${b.underlay}:${b.port}`,
        allowedIps: ["10.77.0.2/32"],
      });
      expect(peer?.latestHandshake).toBeInstanceOf(Date);
      expect(peer?.rxBytes).toBeGreaterThan(0);
      expect(peer?.txBytes).toBeGreaterThan(0);
    });

    it("runs only reads when applied again", async () => {
      for (const [self, other] of [
        [a, b],
        [b, a],
      ] as const) {
        self.runner.calls.length = 0;
        expect(await self.backend.apply(spec(self, other))).toEqual({ created: false, commands: 0 });
        expect(self.runner.calls.map(line)).toEqual([
          `ip -o link show dev ${self.ifname}`,
          `wg show ${self.ifname} dump`,
          `ip -o -4 addr show dev ${self.ifname}`,
          `ip -4 route show dev ${self.ifname}`,
        ]);
      }
    });

    it("rotates a key and moves a port on the live interfaces: ping keeps working, same ifindex", async () => {
      a.keys = generateWireGuardKeys();
      b.port += 10; // b listens elsewhere: a's peer gets a new endpoint
      a.runner.calls.length = 0;
      expect(await a.backend.apply(spec(a, b))).toEqual({ created: false, commands: 2 });
      expect(a.runner.calls.slice(4).map(line)).toEqual([
        `wg set ${a.ifname} private-key /dev/stdin`,
        `wg set ${a.ifname} peer ${b.keys.publicKey} endpoint ${b.underlay}:${b.port}`,
      ]);
      expect(await b.backend.apply(spec(b, a))).toEqual({ created: false, commands: 3 }); // port, old peer out, new in
      await bothPing();
      expect(await ifindex(a)).toBe(indexA);
      expect(await ifindex(b)).toBe(indexB);
      expect((await b.backend.status(b.ifname))?.peers.map((p) => p.publicKey)).toEqual([a.keys.publicKey]);
    });

    it("replaces an address in place", async () => {
      a.address = "10.77.0.11/24";
      expect(await a.backend.apply(spec(a, b))).toEqual({ created: false, commands: 2 });
      expect(await b.backend.apply(spec(b, a))).toEqual({ created: false, commands: 1 });
      await bothPing();
      expect((await a.backend.status(a.ifname))?.addresses).toEqual(["10.77.0.11/24"]);
      const routes = await inNs(a, "ip", ["-4", "route", "show", "dev", a.ifname]);
      expect(routes.stdout).toMatch(/^10\.77\.0\.0\/24 /m);
      expect(await ifindex(a)).toBe(indexA);
    });

    it("remove leaves no interface, address, route or wireguard-go behind", async () => {
      expect(await a.backend.remove(a.ifname)).toBe(true);
      expect(await a.backend.exists(a.ifname)).toBe(false);
      expect(await a.backend.status(a.ifname)).toBeNull();
      const addresses = await inNs(a, "ip", ["-o", "-4", "addr", "show"]);
      expect(addresses.stdout).not.toContain("10.77.");
      const routes = await inNs(a, "ip", ["-4", "route", "show"]);
      expect(routes.stdout).not.toContain("10.77.");
      expect(existsSync(`/var/run/wireguard/${a.ifname}.sock`)).toBe(false);
      await eventually(
        async () => (await system.run("ip", ["netns", "pids", a.ns])).stdout.trim() === "",
        5_000,
        `wireguard-go in ${a.ns} to exit`,
      );
      expect(await a.backend.remove(a.ifname)).toBe(false);
      expect(await pings(b, a)).toBe(false);
    });
  });
}
