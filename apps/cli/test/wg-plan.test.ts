import { describe, expect, it } from "vitest";
import { createBackend, type InterfaceSpec } from "../src/wg/backend.js";
import { generateWireGuardKeys } from "../src/wg/keys.js";
import { parseDump } from "../src/wg/parse.js";
import { FRESH_STATE, plan } from "../src/wg/plan.js";
import { namespacedRunner, recordingRunner } from "../src/wg/runner.js";

/**
 * The Linux backend's exact commands, with recordingRunner standing in for the OS: a
 * small fake of one interface answers the reads (`ip -o link show`, `wg show dump`,
 * `ip -o -4 addr show`, `ip -4 route show`) and notes what the writes did.
 */

const NAME = "wrn0a1b2c3d";
const self = generateWireGuardKeys();
const rotated = generateWireGuardKeys();
const bob = generateWireGuardKeys().publicKey;
const carol = generateWireGuardKeys().publicKey;

interface FakePeer {
  key: string;
  endpoint: string | null;
  allowed: string;
  keepalive: string;
}

interface Fake {
  exists: boolean;
  kernel: boolean;
  up: boolean;
  privateKey: string | null;
  port: number;
  addresses: string[];
  routes: string[];
  peers: FakePeer[];
}

function dumpText(f: Fake): string {
  const head = [f.privateKey ?? "(none)", f.privateKey ? "pub" : "(none)", f.port, "off"].join("\t");
  const peers = f.peers.map((p) =>
    [p.key, "(none)", p.endpoint ?? "(none)", p.allowed, "0", "0", "0", p.keepalive].join("\t"),
  );
  return `${[head, ...peers].join("\n")}\n`;
}

/** A fake interface: existing and configured as `spec` asks, unless overridden. */
function fakeOs(overrides: Partial<Fake> = {}) {
  const f: Fake = {
    exists: true,
    kernel: false,
    up: true,
    privateKey: self.privateKey,
    port: 51820,
    addresses: ["10.1.0.2/24"],
    routes: ["10.1.0.0/24 proto kernel scope link src 10.1.0.2 "],
    peers: [{ key: bob, endpoint: "192.168.7.3:51820", allowed: "10.1.0.3/32", keepalive: "25" }],
    ...overrides,
  };
  const runner = recordingRunner((cmd, args) => {
    const line = [cmd, ...args].join(" ");
    if (line === `ip -o link show dev ${NAME}`) {
      if (!f.exists) return { code: 1, stderr: `Device "${NAME}" does not exist.\n` };
      const flags = f.up ? "POINTOPOINT,MULTICAST,NOARP,UP,LOWER_UP" : "POINTOPOINT,MULTICAST,NOARP";
      return {
        stdout: `7: ${NAME}: <${flags}> mtu 1420 qdisc noop state DOWN mode DEFAULT\\    link/none \n`,
      };
    }
    if (line === `ip link add dev ${NAME} type wireguard`) {
      if (!f.kernel) return { code: 2, stderr: "Error: Unknown device type.\n" };
      f.exists = true;
    }
    if (line === `setsid -w wireguard-go ${NAME}`) f.exists = true;
    if (line === `wg show ${NAME} dump`) return { stdout: dumpText(f) };
    if (line === `ip -o -4 addr show dev ${NAME}`) {
      return {
        stdout: f.addresses
          .map((a) => `7: ${NAME}    inet ${a} scope global ${NAME}\\       valid_lft forever\n`)
          .join(""),
      };
    }
    if (line === `ip -4 route show dev ${NAME}`) return { stdout: f.routes.map((r) => `${r}\n`).join("") };
    return undefined;
  });
  return { runner, fake: f, backend: createBackend(runner, "linux") };
}

function spec(overrides: Partial<InterfaceSpec> = {}): InterfaceSpec {
  return {
    name: NAME,
    privateKey: self.privateKey,
    listenPort: 51820,
    address: "10.1.0.2/24",
    cidr: "10.1.0.0/24",
    peers: [
      { publicKey: bob, allowedIps: ["10.1.0.3/32"], endpoint: "192.168.7.3:51820", persistentKeepalive: 25 },
    ],
    ...overrides,
  };
}

/** An expected call from its command line (no argument here holds a space). */
function call(line: string, input?: string) {
  const [cmd, ...args] = line.split(" ");
  return input === undefined ? { cmd, args } : { cmd, args, input };
}

const READS = [
  call(`ip -o link show dev ${NAME}`),
  call(`wg show ${NAME} dump`),
  call(`ip -o -4 addr show dev ${NAME}`),
  call(`ip -4 route show dev ${NAME}`),
];

describe("apply", () => {
  it("creates a fresh interface with wireguard-go when the kernel has no WireGuard", async () => {
    const { runner, backend } = fakeOs({ exists: false });
    const result = await backend.apply(spec());
    expect(runner.calls).toEqual([
      call(`ip -o link show dev ${NAME}`),
      call(`ip link add dev ${NAME} type wireguard`),
      call(`setsid -w wireguard-go ${NAME}`),
      call(`ip -o link show dev ${NAME}`),
      call(`wg set ${NAME} private-key /dev/stdin listen-port 51820`, `${self.privateKey}\n`),
      call(`ip -4 address add 10.1.0.2/24 dev ${NAME}`),
      call(`ip link set dev ${NAME} up`),
      call(
        `wg set ${NAME} peer ${bob} allowed-ips 10.1.0.3/32 endpoint 192.168.7.3:51820 persistent-keepalive 25`,
      ),
    ]);
    expect(result).toEqual({ created: true, commands: 5 });
    // The private key reaches wg through stdin only.
    for (const c of runner.calls) expect(c.args.join(" ")).not.toContain(self.privateKey);
  });

  it("uses the kernel module when there is one", async () => {
    const { runner, backend } = fakeOs({ exists: false, kernel: true });
    await backend.apply(spec({ peers: [] }));
    expect(runner.calls).toEqual([
      call(`ip -o link show dev ${NAME}`),
      call(`ip link add dev ${NAME} type wireguard`),
      call(`wg set ${NAME} private-key /dev/stdin listen-port 51820`, `${self.privateKey}\n`),
      call(`ip -4 address add 10.1.0.2/24 dev ${NAME}`),
      call(`ip link set dev ${NAME} up`),
    ]);
  });

  it("goes straight to wireguard-go with userspace always, and refuses it with never", async () => {
    const always = fakeOs({ exists: false });
    await createBackend(always.runner, "linux", { userspace: "always" }).apply(spec());
    expect(always.runner.calls[1]).toEqual(call(`setsid -w wireguard-go ${NAME}`));

    const never = fakeOs({ exists: false });
    await expect(createBackend(never.runner, "linux", { userspace: "never" }).apply(spec())).rejects.toThrow(
      /kernel's WireGuard module \(Error: Unknown device type\.\) and userspace WireGuard is turned off/,
    );
    expect(never.runner.calls.map((c) => c.cmd)).toEqual(["ip", "ip"]);
  });

  it("runs only the reads when the interface already matches", async () => {
    const { runner, backend } = fakeOs();
    expect(await backend.apply(spec())).toEqual({ created: false, commands: 0 });
    expect(runner.calls).toEqual(READS);
  });

  it("adds a peer with wg set", async () => {
    const { runner, backend } = fakeOs();
    const peers = [...spec().peers, { publicKey: carol, allowedIps: ["10.1.0.4/32"], endpoint: null }];
    await backend.apply(spec({ peers }));
    expect(runner.calls.slice(4)).toEqual([
      call(`wg set ${NAME} peer ${carol} allowed-ips 10.1.0.4/32 persistent-keepalive 25`),
    ]);
  });

  it("removes a peer with wg set … remove", async () => {
    const { runner, backend } = fakeOs();
    await backend.apply(spec({ peers: [] }));
    expect(runner.calls.slice(4)).toEqual([call(`wg set ${NAME} peer ${bob} remove`)]);
  });

  it("sets a changed endpoint and nothing else", async () => {
    const { runner, backend } = fakeOs();
    const peers = [{ publicKey: bob, allowedIps: ["10.1.0.3/32"], endpoint: "192.168.7.9:51821" }];
    await backend.apply(spec({ peers }));
    expect(runner.calls.slice(4)).toEqual([call(`wg set ${NAME} peer ${bob} endpoint 192.168.7.9:51821`)]);
  });

  it("keeps an endpoint WireGuard roamed to until the server's changes", async () => {
    const { runner, fake, backend } = fakeOs();
    await backend.apply(spec());
    (fake.peers[0] as FakePeer).endpoint = "203.0.113.5:40000"; // bob's packets now come from his NAT
    await backend.apply(spec());
    expect(runner.calls.slice(8)).toEqual([]);
    const peers = [{ publicKey: bob, allowedIps: ["10.1.0.3/32"], endpoint: "198.51.100.1:51820" }];
    await backend.apply(spec({ peers }));
    expect(runner.calls.slice(12)).toEqual([call(`wg set ${NAME} peer ${bob} endpoint 198.51.100.1:51820`)]);
  });

  it("rotates the private key on the live interface", async () => {
    const { runner, backend } = fakeOs();
    expect(await backend.apply(spec({ privateKey: rotated.privateKey }))).toEqual({
      created: false,
      commands: 1,
    });
    expect(runner.calls.slice(4)).toEqual([
      call(`wg set ${NAME} private-key /dev/stdin`, `${rotated.privateKey}\n`),
    ]);
  });

  it("replaces a changed address: old one deleted first, the kernel brings the prefix route", async () => {
    const { runner, backend } = fakeOs();
    await backend.apply(spec({ address: "10.1.0.9/24" }));
    expect(runner.calls.slice(4)).toEqual([
      call(`ip -4 address del 10.1.0.2/24 dev ${NAME}`),
      call(`ip -4 address add 10.1.0.9/24 dev ${NAME}`),
    ]);
  });

  it("adds the network's route when the address does not bring it", async () => {
    const { runner, backend } = fakeOs({ addresses: ["10.1.0.2/32"], routes: [] });
    await backend.apply(spec({ address: "10.1.0.2/32" }));
    expect(runner.calls.slice(4)).toEqual([call(`ip -4 route replace 10.1.0.0/24 dev ${NAME}`)]);
    const deleted = fakeOs({ routes: [] }); // someone deleted the route of an up interface
    await deleted.backend.apply(spec());
    expect(deleted.runner.calls.slice(4)).toEqual([call(`ip -4 route replace 10.1.0.0/24 dev ${NAME}`)]);
  });

  it("brings a down link up", async () => {
    const { runner, backend } = fakeOs({ up: false, routes: [] });
    await backend.apply(spec());
    expect(runner.calls.slice(4)).toEqual([call(`ip link set dev ${NAME} up`)]);
  });

  it("leaves an interface of that name alone when it is not WireGuard", async () => {
    const runner = recordingRunner((cmd) =>
      cmd === "wg"
        ? { code: 1, stderr: "Unable to access interface: Protocol not supported" }
        : { stdout: `2: ${NAME}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP\n` },
    );
    await expect(createBackend(runner, "linux").apply(spec())).rejects.toThrow(/not a WireGuard interface/);
    await expect(createBackend(runner, "linux").remove(NAME)).rejects.toThrow(/not a WireGuard interface/);
    expect(runner.calls.filter((c) => !/show/.test(c.args.join(" ")))).toEqual([]);
  });

  it("refuses a bad spec before creating anything", async () => {
    const { runner, backend } = fakeOs({ exists: false });
    await expect(backend.apply(spec({ address: "10.1.0.300/24" }))).rejects.toThrow(/not an IPv4 address/);
    await expect(backend.apply(spec({ name: "a-name-that-is-too-long" }))).rejects.toThrow(/interface name/);
    await expect(backend.apply(spec({ privateKey: "c2hvcnQ=" }))).rejects.toThrow(/32 bytes/);
    expect(runner.calls).toEqual([]);
  });
});

describe("plan", () => {
  it("plans a fresh interface in the order the commands must run", () => {
    const commands = plan(FRESH_STATE, spec({ listenPort: undefined, address: "10.1.0.2/32" }));
    expect(commands.map((c) => [c.cmd, ...c.args].join(" "))).toEqual([
      `wg set ${NAME} private-key /dev/stdin`,
      `ip -4 address add 10.1.0.2/32 dev ${NAME}`,
      `ip link set dev ${NAME} up`,
      `ip -4 route replace 10.1.0.0/24 dev ${NAME}`,
      `wg set ${NAME} peer ${bob} allowed-ips 10.1.0.3/32 endpoint 192.168.7.3:51820 persistent-keepalive 25`,
    ]);
  });
});

describe("remove", () => {
  it("deletes the link, which takes its address and routes with it", async () => {
    const { runner, backend } = fakeOs();
    expect(await backend.remove(NAME)).toBe(true);
    expect(runner.calls).toEqual([
      call(`ip -o link show dev ${NAME}`),
      call(`wg show ${NAME} listen-port`),
      call(`ip link del dev ${NAME}`),
    ]);
  });

  it("says false when there is nothing to remove", async () => {
    const { runner, backend } = fakeOs({ exists: false });
    expect(await backend.remove(NAME)).toBe(false);
    expect(runner.calls).toHaveLength(1);
  });
});

describe("status", () => {
  const dump = [
    "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\tHIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=\t51820\toff",
    "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\t(none)\t(none)\t(none)\t0\t0\t0\toff",
    "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=\t(none)\t192.168.7.3:51820\t10.1.0.3/32,10.9.0.0/16\t1700000000\t2196\t4144\t25",
    "",
  ].join("\n");

  it("parses wg show dump: (none) endpoints and allowed ips, 0 handshake, off keepalive", () => {
    const parsed = parseDump(dump);
    expect(parsed.privateKey).toBe("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=");
    expect(parsed.listenPort).toBe(51820);
    expect(parsed.fwmark).toBeNull();
    expect(parsed.peers[0]).toEqual({
      publicKey: "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=",
      presharedKey: null,
      endpoint: null,
      allowedIps: [],
      latestHandshake: 0,
      rxBytes: 0,
      txBytes: 0,
      persistentKeepalive: 0,
    });
    expect(parseDump("(none)\t(none)\t0\t0x1234\n")).toEqual({
      privateKey: null,
      publicKey: null,
      listenPort: 0,
      fwmark: 0x1234,
      peers: [],
    });
  });

  it("reports addresses, peers, handshakes and bytes", async () => {
    const runner = recordingRunner((cmd, args) => {
      if (cmd === "wg") return { stdout: dump };
      if (args[1] === "-4")
        return { stdout: `7: ${NAME}    inet 10.1.0.2/24 scope global ${NAME}\\ valid_lft\n` };
      return { stdout: `7: ${NAME}: <POINTOPOINT,NOARP,UP,LOWER_UP> mtu 1420\n` };
    });
    expect(await createBackend(runner, "linux").status(NAME)).toEqual({
      name: NAME,
      publicKey: "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=",
      listenPort: 51820,
      addresses: ["10.1.0.2/24"],
      peers: [
        {
          publicKey: "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=",
          endpoint: null,
          allowedIps: [],
          latestHandshake: null,
          rxBytes: 0,
          txBytes: 0,
        },
        {
          publicKey: "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=",
          endpoint: "192.168.7.3:51820",
          allowedIps: ["10.1.0.3/32", "10.9.0.0/16"],
          latestHandshake: new Date("2023-11-14T22:13:20.000Z"),
          rxBytes: 2196,
          txBytes: 4144,
        },
      ],
    });
    expect(runner.calls.map((c) => [c.cmd, ...c.args].join(" "))).toEqual([
      `ip -o link show dev ${NAME}`,
      `wg show ${NAME} dump`,
      `ip -o -4 addr show dev ${NAME}`,
    ]);
  });

  it("is null for a missing interface", async () => {
    const { backend } = fakeOs({ exists: false });
    expect(await backend.status(NAME)).toBeNull();
    expect(await backend.exists(NAME)).toBe(false);
  });
});

describe("platforms and runners", () => {
  it("offers only config export on macOS and Windows, and says so", () => {
    const runner = recordingRunner();
    expect(() => createBackend(runner, "darwin")).toThrow(
      "warren cannot manage WireGuard interfaces on macOS; only config export is supported here: run `warren config <network>` and import the file into the official WireGuard app",
    );
    expect(() => createBackend(runner, "win32")).toThrow(/on Windows; .*`warren config <network>`/);
    expect(runner.calls).toEqual([]);
  });

  it("runs commands inside a namespace through ip netns exec", async () => {
    const runner = recordingRunner();
    await namespacedRunner("lab-1", runner).run("wg", ["show"], { input: "x" });
    expect(runner.calls).toEqual([{ cmd: "ip", args: ["netns", "exec", "lab-1", "wg", "show"], input: "x" }]);
    expect(() => namespacedRunner("../x", runner)).toThrow(/namespace/);
  });

  it("throws on a failed command unless failure is allowed", async () => {
    const runner = recordingRunner(() => ({ code: 1, stderr: "boom\n" }));
    await expect(runner.run("ip", ["link"])).rejects.toThrow("ip link failed: boom");
    expect(await runner.run("ip", ["link"], { allowFailure: true })).toEqual({
      code: 1,
      stdout: "",
      stderr: "boom\n",
    });
  });
});
