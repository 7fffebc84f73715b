import type {
  ApplyResult,
  BackendOptions,
  InterfaceSpec,
  InterfaceStatus,
  WireGuardBackend,
} from "./backend.js";
import { type Dump, type LinkInfo, parseAddresses, parseDump, parseLink, parseRoutes } from "./parse.js";
import { FRESH_STATE, type LinuxState, plan, validateName, validateSpec } from "./plan.js";
import type { CommandRunner } from "./runner.js";

/**
 * WireGuard on Linux with iproute2 and wireguard-tools: the kernel module where it
 * exists, else wireguard-go (userspace). Every OS call goes through `runner`; the
 * diffing lives in plan.ts. Only the interface itself is touched: its address, the
 * route for the network's CIDR, its WireGuard settings. `ip link del` takes all of it
 * away again (and wireguard-go exits when its TUN device goes).
 */

/** wireguard-go opens the TUN device before it daemonises; this only bounds the wait. */
const CREATE_WAIT_MS = 5_000;
const POLL_MS = 25;

interface Current {
  dump: Dump;
  state: LinuxState;
}

export function createLinuxBackend(runner: CommandRunner, options: BackendOptions = {}): WireGuardBackend {
  const userspace = options.userspace ?? "auto";
  /** per interface: the endpoint last set for each peer (plan.ts: WireGuard roams) */
  const endpoints = new Map<string, Map<string, string>>();
  const queues = new Map<string, Promise<unknown>>();

  /** One change at a time per interface: a read-then-write must not interleave with another. */
  function serial<T>(name: string, work: () => Promise<T>): Promise<T> {
    const next = (queues.get(name) ?? Promise.resolve()).catch(() => {}).then(work);
    queues.set(name, next);
    const forget = () => {
      if (queues.get(name) === next) queues.delete(name);
    };
    next.then(forget, forget);
    return next;
  }

  async function link(name: string): Promise<LinkInfo | null> {
    const r = await runner.run("ip", ["-o", "link", "show", "dev", name], { allowFailure: true });
    if (r.code !== 0) return null;
    const info = parseLink(r.stdout);
    if (!info)
      throw new Error(`unexpected \`ip link show\` output: ${JSON.stringify(r.stdout.slice(0, 200))}`);
    return info;
  }

  async function read(name: string, withRoutes: boolean): Promise<Current | null> {
    const info = await link(name);
    if (!info) return null;
    const shown = await runner.run("wg", ["show", name, "dump"], { allowFailure: true });
    if (shown.code !== 0) {
      throw new Error(
        `${name} exists but is not a WireGuard interface (${shown.stderr.trim()}); warren leaves it alone: choose another interface name or prefix`,
      );
    }
    const dump = parseDump(shown.stdout);
    const addresses = parseAddresses(
      (await runner.run("ip", ["-o", "-4", "addr", "show", "dev", name])).stdout,
    );
    const routes = withRoutes
      ? parseRoutes((await runner.run("ip", ["-4", "route", "show", "dev", name])).stdout)
      : [];
    return {
      dump,
      state: {
        up: info.up,
        privateKey: dump.privateKey,
        listenPort: dump.listenPort,
        addresses,
        routes,
        peers: dump.peers,
      },
    };
  }

  async function create(name: string): Promise<void> {
    let kernelError = "";
    if (userspace !== "always") {
      const kernel = await runner.run("ip", ["link", "add", "dev", name, "type", "wireguard"], {
        allowFailure: true,
      });
      if (kernel.code === 0) return;
      kernelError = kernel.stderr.trim() || `exit code ${kernel.code}`;
      if (/not permitted/i.test(kernelError)) {
        throw new Error(`cannot create ${name}: ${kernelError} (run as root or with CAP_NET_ADMIN)`);
      }
      if (userspace === "never") {
        throw new Error(
          `cannot create ${name} with the kernel's WireGuard module (${kernelError}) and userspace WireGuard is turned off`,
        );
      }
    }
    // It daemonises by itself and keeps running after we exit, until its interface is
    // deleted. setsid: in its own session, a Ctrl-C or SIGTERM meant for `warren up`
    // (sent to our process group) does not reach it and take the interface down.
    const go = await runner.run("setsid", ["-w", "wireguard-go", name], { allowFailure: true });
    if (go.code !== 0) {
      const kernel = kernelError ? `the kernel has no WireGuard (${kernelError}) and ` : "";
      // Its reason is on stdout; stderr carries a banner about kernel support.
      const why = go.stdout.trim() || go.stderr.trim() || `exit code ${go.code}`;
      throw new Error(`cannot create ${name}: ${kernel}wireguard-go failed: ${why.slice(-500)}`);
    }
    const deadline = Date.now() + CREATE_WAIT_MS;
    while (!(await link(name))) {
      if (Date.now() > deadline)
        throw new Error(`wireguard-go did not create ${name} within ${CREATE_WAIT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  async function apply(spec: InterfaceSpec): Promise<ApplyResult> {
    validateSpec(spec); // a bad spec fails before anything is read or created
    const name = spec.name;
    const current = await read(name, true);
    let state = current?.state;
    let created = false;
    if (!state) {
      await create(name);
      created = true;
      state = FRESH_STATE;
    }
    const commands = plan(state, spec, endpoints.get(name));
    for (const c of commands) {
      await runner.run(c.cmd, c.args, c.input === undefined ? undefined : { input: c.input });
    }
    const set = new Map<string, string>();
    for (const peer of spec.peers) if (peer.endpoint) set.set(peer.publicKey, peer.endpoint);
    endpoints.set(name, set);
    return { created, commands: commands.length + (created ? 1 : 0) };
  }

  async function remove(name: string): Promise<boolean> {
    validateName(name);
    if (!(await link(name))) return false;
    const wg = await runner.run("wg", ["show", name, "listen-port"], { allowFailure: true });
    if (wg.code !== 0) throw new Error(`${name} is not a WireGuard interface; warren leaves it alone`);
    await runner.run("ip", ["link", "del", "dev", name]);
    endpoints.delete(name);
    return true;
  }

  async function status(name: string): Promise<InterfaceStatus | null> {
    const current = await read(validateName(name), false);
    if (!current) return null;
    const { dump, state } = current;
    return {
      name,
      publicKey: dump.publicKey ?? "",
      listenPort: dump.listenPort,
      addresses: state.addresses,
      peers: dump.peers.map((p) => ({
        publicKey: p.publicKey,
        endpoint: p.endpoint,
        allowedIps: p.allowedIps,
        latestHandshake: p.latestHandshake > 0 ? new Date(p.latestHandshake * 1000) : null,
        rxBytes: p.rxBytes,
        txBytes: p.txBytes,
      })),
    };
  }

  return {
    apply: (spec) => serial(spec.name, () => apply(spec)),
    remove: (name) => serial(name, () => remove(name)),
    status,
    exists: async (name) => (await link(validateName(name))) !== null,
  };
}
