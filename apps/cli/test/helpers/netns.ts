import { type ChildProcess, execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { CLIENT, SERVER } from "./cli.js";

/**
 * A small lab of network namespaces for the WireGuard suites: one bridge namespace
 * holding a Linux bridge, and hosts (server, devices) each linked to it by a veth pair
 * on one /24 underlay. The test process itself gets a leg on the bridge too, so it can
 * reach the server over REST. Every name carries the run id, so two runs on one
 * machine do not collide; `destroy()` removes everything, pass or fail.
 */

const run = promisify(execFile);

export async function sh(cmd: string, args: string[], options: { allowFailure?: boolean } = {}) {
  try {
    const { stdout, stderr } = await run(cmd, args, { timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string; message: string };
    if (options.allowFailure) return { code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
    throw new Error(`${cmd} ${args.join(" ")} failed: ${e.stderr || e.message}`);
  }
}

export interface Host {
  name: string;
  /** the namespace's name */
  ns: string;
  /** its underlay address */
  ip: string;
  exec(cmd: string, args: string[], options?: { allowFailure?: boolean }): ReturnType<typeof sh>;
}

export interface LabProcess {
  child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function createLab() {
  const id = String(process.pid % 100_000);
  const subnet = `192.168.${200 + (process.pid % 50)}`;
  const bridgeNs = `wl${id}-br`;
  const hosts: Host[] = [];
  const processes: LabProcess[] = [];
  let rootLeg: string | undefined;

  async function setup(): Promise<void> {
    await sh("ip", ["netns", "add", bridgeNs]);
    await sh("ip", ["-n", bridgeNs, "link", "add", "br0", "type", "bridge"]);
    await sh("ip", ["-n", bridgeNs, "link", "set", "br0", "up"]);
    // The test process's own leg: address .254 in the root namespace.
    rootLeg = `wl${id}r`;
    await sh("ip", ["link", "add", rootLeg, "type", "veth", "peer", "name", "p", "netns", bridgeNs]);
    await sh("ip", ["-n", bridgeNs, "link", "set", "p", "name", "proot", "master", "br0", "up"]);
    await sh("ip", ["addr", "add", `${subnet}.254/24`, "dev", rootLeg]);
    await sh("ip", ["link", "set", rootLeg, "up"]);
  }

  async function addHost(name: string): Promise<Host> {
    const n = hosts.length + 1;
    const ns = `wl${id}-${name}`;
    const ip = `${subnet}.${n}`;
    await sh("ip", ["netns", "add", ns]);
    await sh("ip", ["-n", ns, "link", "set", "lo", "up"]);
    await sh("ip", [
      "-n",
      ns,
      "link",
      "add",
      "eth0",
      "type",
      "veth",
      "peer",
      "name",
      `p${n}`,
      "netns",
      bridgeNs,
    ]);
    await sh("ip", ["-n", bridgeNs, "link", "set", `p${n}`, "master", "br0", "up"]);
    await sh("ip", ["-n", ns, "addr", "add", `${ip}/24`, "dev", "eth0"]);
    await sh("ip", ["-n", ns, "link", "set", "eth0", "up"]);
    const host: Host = {
      name,
      ns,
      ip,
      exec: (cmd, args, options) => sh("ip", ["netns", "exec", ns, cmd, ...args], options),
    };
    hosts.push(host);
    return host;
  }

  /** `warren <args>` inside the host's namespace, as a long-running process. */
  function spawnWarren(host: Host, args: string[], env: Record<string, string>): LabProcess {
    // ["server", ...flags] starts `warren-server`; anything else is a `warren` command.
    const command = args[0] === "server" ? [...SERVER, ...args.slice(1)] : [...CLIENT, ...args];
    const child = spawn("ip", ["netns", "exec", host.ns, process.execPath, ...command], {
      env: { ...process.env, NODE_ENV: "", ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    const listeners = new Set<() => void>();
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      for (const l of listeners) l();
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const proc: LabProcess = {
      child,
      output: () => out,
      exited,
      waitFor: (pattern, timeoutMs = 20_000) =>
        new Promise<void>((resolve, reject) => {
          const check = () => {
            if (!pattern.test(out)) return;
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(() => {
            listeners.delete(check);
            reject(new Error(`timed out waiting for ${pattern} in:\n${out}`));
          }, timeoutMs);
          listeners.add(check);
          check();
        }),
      stop: async (signal = "SIGTERM") => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill(signal);
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      },
    };
    processes.push(proc);
    return proc;
  }

  /** `warren <args>` inside the namespace, to completion. */
  async function warren(host: Host, args: string[], env: Record<string, string>, input?: string) {
    const proc = spawnWarren(host, args, env);
    if (input !== undefined) proc.child.stdin?.end(input);
    else proc.child.stdin?.end();
    const timer = setTimeout(() => proc.child.kill("SIGKILL"), 60_000);
    const code = await proc.exited;
    clearTimeout(timer);
    processes.splice(processes.indexOf(proc), 1);
    return { code, output: proc.output() };
  }

  async function destroy(): Promise<void> {
    await Promise.allSettled(processes.map((p) => p.stop()));
    for (const host of hosts) {
      // Interfaces first, so wireguard-go processes see their TUN go and exit.
      const links = await host.exec("ip", ["-o", "link", "show"], { allowFailure: true });
      for (const m of links.stdout.matchAll(/^\d+: ([^:@]+)[:@]/gm)) {
        const name = m[1] as string;
        if (name !== "lo" && name !== "eth0")
          await host.exec("ip", ["link", "del", name], { allowFailure: true });
      }
      await sh("ip", ["netns", "del", host.ns], { allowFailure: true });
    }
    if (rootLeg) await sh("ip", ["link", "del", rootLeg], { allowFailure: true });
    await sh("ip", ["netns", "del", bridgeNs], { allowFailure: true });
  }

  return { id, subnet, setup, addHost, spawnWarren, warren, destroy, hosts };
}

export type Lab = ReturnType<typeof createLab>;

/** Polls `probe` until it returns true or `timeoutMs` passes; returns how long it took. */
export async function eventually(
  probe: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await probe()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One ping from `host` to `address`, waiting at most a second. */
export async function pings(host: Host, address: string): Promise<boolean> {
  const r = await host.exec("ping", ["-c", "1", "-W", "1", address], { allowFailure: true });
  return r.code === 0;
}
