/**
 * `npm run bench -- <name> [options]`: the benchmarks in bench/.
 *
 *   relay [--quick] [--only=bare|corked|warren] [--no-write]
 *       warren's WebSocket relay against a bare `ws` relay (bench/README.md)
 *   connections [--quick] [--only=corked|warren] [--no-write]
 *       what a connection costs: CPU per accept, heap per idle connection, a reconnect storm
 *   cluster [--quick] [--no-write]
 *       two warren instances and Redis against one instance (bench/README.md)
 *   dm [--quick] [--no-write]
 *       direct messages stored and delivered, on SQLite and PostgreSQL (bench/README.md)
 *   all [--quick] [--no-write]
 *       relay, connections, cluster and dm, one after the other (every figure the targets name)
 *   instructions [--frames=N] [--burst=N] | [--accepts[=N]] [--keep=DIR] [--no-write]
 *       instructions per relayed frame (or per accepted connection) under callgrind,
 *       warren against the corked floor
 *   nat [--quick] [--no-write]
 *       the NAT lab (root): join to first ping, failover, relay to direct, iperf3 direct
 *       vs a hand-made WireGuard tunnel vs relayed, server CPU per relayed GB, latency
 */
import { runCluster } from "./cluster/main.js";
import { runConnections } from "./connections/main.js";
import { runDm } from "./dm/main.js";
import { runInstructions } from "./instructions/main.js";
import { runNat } from "./nat/main.js";
import { runRelay } from "./relay/main.js";

/** What `all` runs: every benchmark with a target, none that needs root. */
const ALL = { relay: runRelay, connections: runConnections, cluster: runCluster, dm: runDm };

const BENCHMARKS: Record<string, (args: string[]) => Promise<void>> = {
  ...ALL,
  all: async (args) => {
    for (const [name, run] of Object.entries(ALL)) {
      process.stderr.write(`\n== bench ${name}\n`);
      await run(args);
    }
  },
  nat: runNat,
  instructions: runInstructions,
};

const USAGE = `usage: npm run bench -- <benchmark> [options]

benchmarks:
  relay [--quick] [--only=bare|corked|warren] [--no-write]
      warren's WebSocket relay against a bare ws relay: throughput, CPU per message,
      latency at 20k msg/s, CPU per connection, memory per idle connection, heartbeat cost.
      --quick      smaller counts and shorter windows (about a minute)
      --only=NAME  run one server only (no ratios, nothing written)
      --no-write   print the table, write nothing to bench/results/
  connections [--quick] [--only=corked|warren] [--no-write]
      warren against the corked ws relay, one fresh server at a time: server CPU per
      accepted connection (on the fresh process, and again once it is warm), heap per
      idle connection after a full GC, and a reconnect storm (every client drops,
      10,000 reconnect at once: time until all are welcomed, refusals by reason).
  cluster [--quick] [--no-write]
      the relay through two warren instances sharing Redis (every sender on one, every
      receiver on the other) against one instance, both on PostgreSQL: throughput,
      CPU per message (both instances and Redis), latency at 10k msg/s.
      --quick      fewer pairs and shorter windows (about a minute)
      --no-write   print the table, write nothing to bench/results/
  dm [--quick] [--no-write]
      direct messages: dm.send stored before its acknowledgement and delivered to an
      online device, on SQLite and PostgreSQL: messages/s, server CPU per message,
      acknowledgement and delivery latency at a paced rate.
  all [--quick] [--no-write]
      relay, connections, cluster and dm in turn: every figure with a target, each
      benchmark's table printed and (without --no-write) its results written.
  instructions [--frames=N] [--burst=N] | [--accepts[=N]] [--keep=DIR] [--no-write]
      instructions per relayed frame, warren against the corked ws floor, counted by
      valgrind's callgrind (repeatable within a fraction of a percent: for comparing two
      versions of the relay path on a noisy machine; about 3 minutes, needs valgrind).
      --frames=N    frames relayed while counting (default 100,000)
      --burst=N     frames each sender keeps in flight (default 32; 1: every frame its own
                    read and write, the path at a steady rate below saturation)
      --accepts[=N] count per accepted connection instead: N accepts (default 2,000)
                    after 6,000 uncounted, from the upgrade request to the welcome
      --keep=DIR    leave callgrind's output in DIR/corked and DIR/warren (callgrind_annotate)
  nat [--quick] [--no-write]
      the NAT lab in network namespaces (root; wireguard-go, nftables, iperf3): join to
      first ping, failover, relay to direct, throughput direct vs a WireGuard tunnel set
      up by hand vs relayed, server CPU per relayed GB, ping latency added.
`;

const [name, ...args] = process.argv.slice(2);
const bench = name === undefined ? undefined : BENCHMARKS[name];
if (!bench) {
  process.stderr.write(name === undefined ? USAGE : `unknown benchmark ${JSON.stringify(name)}\n\n${USAGE}`);
  process.exit(1);
}
// Ctrl-C or SIGTERM: exit, which stops the servers under test (bench/relay/servers.ts).
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));
try {
  await bench(args);
  process.exit(0);
} catch (err) {
  process.stderr.write(
    `bench ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
}
