import { type ChildProcess, spawn } from "node:child_process";
import { CLIENT, SERVER } from "../helpers/cli.js";
import { sh } from "../helpers/netns.js";

/**
 * The NAT lab: network namespaces standing for the internet, home routers and devices.
 *
 *   inet        a namespace holding the "internet" bridge (198.18.N.0/24, RFC 2544's
 *               benchmarking range); the server (.2), public devices (.10+) and every
 *               router's WAN side (.20+) hang on it, and so does the process running the
 *               lab (.254), to reach the server over REST.
 *   router      a namespace with a WAN leg on the internet and a LAN bridge 172.16.R.0/24
 *               (.1), forwarding between them through nftables NAT of one kind:
 *               - port-restricted: masquerade (Linux keeps the source port when it can)
 *                 and a forward chain passing only replies (conntrack);
 *               - full-cone: the same plus a DNAT of UDP 51820 to the first device;
 *               - symmetric: masquerade fully-random: a new random port per destination;
 *               - udp-blocked: only TCP to the server's HTTP port gets out.
 *   device      a namespace behind a router (172.16.R.10+) or on the internet directly.
 *
 * Every router drops unsolicited packets to itself from the WAN side in its input chain,
 * as home routers do. This matters: a packet that reaches the router before its own
 * device has sent the matching one would otherwise leave a conntrack entry that makes
 * masquerade pick another port for the device's packets (a dropped packet's entry is
 * never confirmed, so it leaves none). Bridged traffic between devices of one LAN is
 * let through (the host may have br_netfilter loaded).
 *
 * Every name carries the run id; destroy() removes it all, and clean() removes what an
 * earlier run with the same id left behind.
 */

export type NatKind = "port-restricted" | "full-cone" | "symmetric" | "udp-blocked";

export interface LabHost {
  name: string;
  ns: string;
  /** its address: on the internet, or on its router's LAN */
  ip: string;
  router?: LabRouter;
  exec(cmd: string, args: string[], options?: { allowFailure?: boolean }): ReturnType<typeof sh>;
}

export interface LabRouter extends LabHost {
  kind: NatKind;
  wan: string;
  lanPrefix: string;
  devices: LabHost[];
}

export interface Spawned {
  child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export const LAB_SERVER_PORT = 8080;
export const LAB_LISTEN_PORT = 51820;

export function createNatLab(id = String(process.pid % 10_000)) {
  const n = Number(id) % 200;
  const inetPrefix = `198.18.${n}`;
  const prefix = `wn${id}`;
  const inetNs = `${prefix}-inet`;
  const rootLeg = `${prefix}r`;
  const namespaces: string[] = [];
  const processes: Spawned[] = [];
  let ports = 0;
  let nextPublic = 10;
  let nextRouter = 0;

  const exec = (ns: string) => (cmd: string, args: string[], options?: { allowFailure?: boolean }) =>
    sh("ip", ["netns", "exec", ns, cmd, ...args], options);

  async function addNs(name: string): Promise<string> {
    const ns = `${prefix}-${name}`;
    await sh("ip", ["netns", "add", ns]);
    namespaces.push(ns);
    await sh("ip", ["-n", ns, "link", "set", "lo", "up"]);
    return ns;
  }

  /** A veth from the internet bridge into `ns`, named `inside` there, with `ip`. */
  async function plugIntoInternet(ns: string, inside: string, ip: string): Promise<void> {
    const outside = `i${++ports}`;
    await sh("ip", [
      "-n",
      inetNs,
      "link",
      "add",
      outside,
      "type",
      "veth",
      "peer",
      "name",
      inside,
      "netns",
      ns,
    ]);
    await sh("ip", ["-n", inetNs, "link", "set", outside, "master", "br0", "up"]);
    await sh("ip", ["-n", ns, "addr", "add", `${ip}/24`, "dev", inside]);
    await sh("ip", ["-n", ns, "link", "set", inside, "up"]);
  }

  async function setup(): Promise<void> {
    await clean();
    await addNs("inet");
    await sh("ip", ["-n", inetNs, "link", "add", "br0", "type", "bridge"]);
    await sh("ip", ["-n", inetNs, "link", "set", "br0", "up"]);
    await sh("ip", ["link", "add", rootLeg, "type", "veth", "peer", "name", "proot", "netns", inetNs]);
    await sh("ip", ["-n", inetNs, "link", "set", "proot", "master", "br0", "up"]);
    await sh("ip", ["addr", "add", `${inetPrefix}.254/24`, "dev", rootLeg]);
    await sh("ip", ["link", "set", rootLeg, "up"]);
  }

  function host(name: string, ns: string, ip: string): LabHost {
    return { name, ns, ip, exec: exec(ns) };
  }

  /** A host with a public address on the internet bridge (the server is one). */
  async function addPublic(name: string, ip = `${inetPrefix}.${nextPublic++}`): Promise<LabHost> {
    const ns = await addNs(name);
    await plugIntoInternet(ns, "eth0", ip);
    return host(name, ns, ip);
  }

  async function addRouter(name: string, kind: NatKind): Promise<LabRouter> {
    const r = ++nextRouter;
    const ns = await addNs(name);
    const wan = `${inetPrefix}.${20 + r}`;
    const lanPrefix = `172.16.${r}`;
    await plugIntoInternet(ns, "wan", wan);
    await sh("ip", ["-n", ns, "link", "add", "lan", "type", "bridge"]);
    await sh("ip", ["-n", ns, "addr", "add", `${lanPrefix}.1/24`, "dev", "lan"]);
    await sh("ip", ["-n", ns, "link", "set", "lan", "up"]);
    await exec(ns)("sysctl", ["-qw", "net.ipv4.ip_forward=1"]);
    const router: LabRouter = { ...host(name, ns, wan), kind, wan, lanPrefix, devices: [] };
    await applyNat(router);
    return router;
  }

  /** The router's whole ruleset, made from its kind (and its first device, for full cone). */
  async function applyNat(router: LabRouter): Promise<void> {
    const first = `${router.lanPrefix}.10`;
    const server = `${inetPrefix}.2`;
    const masquerade = router.kind === "symmetric" ? "masquerade fully-random" : "masquerade";
    const dnat =
      router.kind === "full-cone"
        ? `iifname "wan" udp dport ${LAB_LISTEN_PORT} dnat to ${first}:${LAB_LISTEN_PORT};`
        : "";
    const out =
      router.kind === "udp-blocked"
        ? `iifname "lan" oifname "wan" ip daddr ${server} tcp dport ${LAB_SERVER_PORT} accept`
        : `iifname "lan" oifname "wan" accept`;
    const inbound = router.kind === "full-cone" ? `iifname "wan" ct status dnat accept` : "";
    const rules = `flush ruleset
table ip nat {
  chain post { type nat hook postrouting priority 100; oifname "wan" ${masquerade}; }
  chain pre { type nat hook prerouting priority -100; ${dnat} }
}
table ip filter {
  chain forwarding {
    type filter hook forward priority 0; policy drop;
    ct state established,related accept
    iifname "lan" oifname "lan" accept
    ${out}
    ${inbound}
  }
  chain incoming {
    type filter hook input priority 0; policy accept;
    iifname "wan" ct state established,related accept
    iifname "wan" drop
  }
}
`;
    await nft(router, rules);
  }

  async function nft(router: LabRouter, rules: string): Promise<void> {
    const child = spawn("ip", ["netns", "exec", router.ns, "nft", "-f", "-"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.stdin.end(rules);
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    if (code !== 0) throw new Error(`nft in ${router.name} failed: ${err}`);
  }

  /** Drops UDP between the router and another WAN address, both ways (a path that breaks). */
  async function blockUdp(router: LabRouter, other: string): Promise<void> {
    await nft(
      router,
      `table ip cut {
  chain f { type filter hook forward priority -10; ip daddr ${other} meta l4proto udp drop; ip saddr ${other} meta l4proto udp drop; }
}
`,
    );
  }

  async function unblockUdp(router: LabRouter): Promise<void> {
    await nft(router, "delete table ip cut\n");
  }

  async function addBehind(router: LabRouter, name: string): Promise<LabHost> {
    const ns = await addNs(name);
    const ip = `${router.lanPrefix}.${10 + router.devices.length}`;
    const outside = `l${++ports}`;
    await sh("ip", [
      "-n",
      router.ns,
      "link",
      "add",
      outside,
      "type",
      "veth",
      "peer",
      "name",
      "eth0",
      "netns",
      ns,
    ]);
    await sh("ip", ["-n", router.ns, "link", "set", outside, "master", "lan", "up"]);
    await sh("ip", ["-n", ns, "addr", "add", `${ip}/24`, "dev", "eth0"]);
    await sh("ip", ["-n", ns, "link", "set", "eth0", "up"]);
    await sh("ip", ["-n", ns, "route", "add", "default", "via", `${router.lanPrefix}.1`]);
    const device = { ...host(name, ns, ip), router };
    router.devices.push(device);
    return device;
  }

  /** `warren <args>` in a namespace, as a long-running process. */
  function spawnWarren(h: LabHost, args: string[], env: Record<string, string>): Spawned {
    // ["server", ...flags] starts `warren-server`; anything else is a `warren` command.
    const command = args[0] === "server" ? [...SERVER, ...args.slice(1)] : [...CLIENT, ...args];
    const child = spawn("ip", ["netns", "exec", h.ns, process.execPath, ...command], {
      env: { ...process.env, NODE_ENV: "", ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    const listeners = new Set<() => void>();
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.length > 1_000_000) out = out.slice(-500_000);
      for (const l of listeners) l();
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const proc: Spawned = {
      child,
      output: () => out,
      exited,
      waitFor: (pattern, timeoutMs = 30_000) =>
        new Promise<void>((resolve, reject) => {
          const check = () => {
            if (!pattern.test(out)) return;
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(() => {
            listeners.delete(check);
            reject(new Error(`${h.name}: timed out waiting for ${pattern} in:\n${out.slice(-4000)}`));
          }, timeoutMs);
          listeners.add(check);
          check();
        }),
      stop: async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      },
    };
    processes.push(proc);
    return proc;
  }

  /** `warren <args>` to completion (bounded: 60 s). */
  async function warren(h: LabHost, args: string[], env: Record<string, string>, input?: string) {
    const proc = spawnWarren(h, args, env);
    proc.child.stdin?.end(input ?? "");
    const timer = setTimeout(() => proc.child.kill("SIGKILL"), 60_000);
    const code = await proc.exited;
    clearTimeout(timer);
    processes.splice(processes.indexOf(proc), 1);
    return { code, output: proc.output() };
  }

  /** Removes every namespace and link of this run id, including an earlier run's leftovers. */
  async function clean(): Promise<void> {
    const list = await sh("ip", ["netns", "list"], { allowFailure: true });
    const ours = [...list.stdout.matchAll(/^(\S+)/gm)]
      .map((m) => m[1] as string)
      .filter((ns) => ns.startsWith(`${prefix}-`));
    for (const ns of ours) await removeNs(ns);
    await sh("ip", ["link", "del", rootLeg], { allowFailure: true });
  }

  async function removeNs(ns: string): Promise<void> {
    // Interfaces first, so wireguard-go processes see their TUN go and exit.
    const links = await sh("ip", ["-n", ns, "-o", "link", "show"], { allowFailure: true });
    for (const m of links.stdout.matchAll(/^\d+: ([^:@]+)[:@]/gm)) {
      const name = m[1] as string;
      if (/^wl|^wt|^wn/.test(name)) await sh("ip", ["-n", ns, "link", "del", name], { allowFailure: true });
    }
    const pids = await sh("ip", ["netns", "pids", ns], { allowFailure: true });
    for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // gone already
      }
    }
    await sh("ip", ["netns", "del", ns], { allowFailure: true });
  }

  async function destroy(): Promise<void> {
    await Promise.allSettled(processes.map((p) => p.stop()));
    for (const ns of namespaces.splice(0).reverse()) await removeNs(ns);
    await sh("ip", ["link", "del", rootLeg], { allowFailure: true });
  }

  return {
    id,
    prefix,
    inetPrefix,
    serverIp: `${inetPrefix}.2`,
    setup,
    addPublic,
    addRouter,
    addBehind,
    applyNat,
    blockUdp,
    unblockUdp,
    spawnWarren,
    warren,
    clean,
    destroy,
  };
}

export type NatLab = ReturnType<typeof createNatLab>;
