/**
 * Starting the two setups on one fresh PostgreSQL database: the baseline, one warren
 * instance with the in-process bus, and the subject, two instances sharing Redis. Every
 * instance is started as the relay benchmark starts warren (bench/relay/servers.ts), so
 * they share its per-run JWT_SECRET: a token from the setup instance works on all three.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { PairSpec } from "../relay/messages.js";
import { fmt, log } from "../relay/report.js";
import { type Account, HOST, registerUsers, type ServerProcess, startWarren } from "../relay/servers.js";
import { REDIS_URL } from "./backends.js";
import { type ClusterConfig, type Setup, source } from "./config.js";

export interface Instance extends ServerProcess {
  /** "single", "A" (every sender) or "B" (every receiver) */
  role: string;
}

export interface Setups {
  instances: Record<Setup, Instance[]>;
  specs: Record<Setup, PairSpec[]>;
  all: Instance[];
}

/**
 * Accounts first, on an instance of their own that is then stopped, so the measured
 * ones start clean; then the three measured instances. `started` receives each process
 * as soon as it runs, so the caller can stop it whatever happens next.
 */
export async function startSetups(
  cfg: ClusterConfig,
  dataDir: string,
  databaseUrl: string,
  redisPrefix: string,
  started: (s: ServerProcess) => void,
): Promise<Setups> {
  const db = { DATABASE_URL: databaseUrl };
  const setup = await startWarren(dataDir, db);
  started(setup);
  const t0 = performance.now();
  log(`warren: registering ${4 * cfg.pairs} key-only accounts on PostgreSQL`);
  const tag = randomBytes(3).toString("hex");
  const users = await registerUsers(setup.port, `bc${tag}`, 4 * cfg.pairs);
  log(`warren: registered in ${fmt((performance.now() - t0) / 1000, 1)} s`);
  await setup.stop();

  const start = async (role: string, env: Record<string, string>): Promise<Instance> => {
    const s = await startWarren(dataDir, { ...db, ...env });
    started(s);
    return Object.assign(s, { role });
  };
  const clustered = (id: string) => ({
    REDIS_URL,
    REDIS_KEY_PREFIX: redisPrefix,
    INSTANCE_ID: `bench-${id}-${tag}`,
  });
  const single = await start("single", {});
  const a = await start("A", clustered("a"));
  const b = await start("B", clustered("b"));
  log(`warren: single on ${single.port}; A on ${a.port} and B on ${b.port} with Redis (${redisPrefix}*)`);

  const url = (s: ServerProcess) => `ws://${HOST}:${s.port}/v1/ws`;
  const auth = (x: Account) => ({ authorization: `Bearer ${x.token}` });
  /** Pair i of a setup uses accounts offset+2i (sender) and offset+2i+1 (receiver). */
  const pairs = (offset: number, senders: ServerProcess, receivers: ServerProcess): PairSpec[] =>
    Array.from({ length: cfg.pairs }, (_, i) => {
      const sender = users[offset + 2 * i] as Account;
      const receiver = users[offset + 2 * i + 1] as Account;
      return {
        sender: { url: url(senders), headers: auth(sender), localAddress: source(2 * i, cfg) },
        receiver: { url: url(receivers), headers: auth(receiver), localAddress: source(2 * i + 1, cfg) },
        to: receiver.id,
      };
    });
  return {
    instances: { single: [single], cluster: [a, b] },
    // Every sender on A and its receiver on B: every relayed frame crosses Redis.
    specs: { single: pairs(0, single, single), cluster: pairs(2 * cfg.pairs, a, b) },
    all: [single, a, b],
  };
}
