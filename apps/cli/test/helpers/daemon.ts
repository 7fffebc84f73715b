import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Client, createClient } from "@warren/sdk";
import { startServer } from "../../../server/src/index.js";
import { sqliteBackend } from "../../../server/test/helpers/backends.js";
import {
  configFor,
  register,
  startTestServer,
  type TestServer,
  uniqueName,
} from "../../../server/test/helpers/server.js";
import type { NetworkTarget } from "../../src/daemon/daemon.js";
import { type RunningDaemon, startDaemon } from "../../src/daemon/run.js";
import type { Credentials } from "../../src/store/credentials.js";
import { saveDevice } from "../../src/store/device.js";
import type { InterfaceSpec } from "../../src/wg/backend.js";
import { interfaceName } from "../../src/wg/export.js";
import { generateWireGuardKeys } from "../../src/wg/keys.js";
import { createMemoryBackend, type MemoryBackend } from "../../src/wg/memory-backend.js";
import { startProxy, type TcpProxy } from "./proxy.js";

/**
 * Daemons against a real server in this process, over SQLite and real sockets; only
 * WireGuard is the memory backend. The daemon reaches the server through a TCP proxy
 * (proxy.ts) so a test can cut its connection or restart the server under it. Device
 * keys go to a key store in a temporary config directory, as `warren` keeps them.
 */

export const PREFIX = "wt";

const dirs: string[] = [];
export function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "warren-daemon-"));
  dirs.push(dir);
  return dir;
}

export interface Lab {
  t: TestServer;
  proxy: TcpProxy;
  /** a new account, signed in straight to the server (not through the proxy) */
  account(prefix: string): Promise<Account>;
  /**
   * Stops the server (its sockets hear server_shutdown) and starts another on the same
   * port and database; `whileDown` runs in between.
   */
  restartServer(whileDown?: () => Promise<void>): Promise<void>;
  /** a daemon of `device` bringing up `targets`, with a fresh state directory unless given */
  daemon(device: Device, targets: NetworkTarget[], stateDir?: string): Promise<TestDaemon>;
  close(): Promise<void>;
}

export interface Account {
  id: string;
  username: string;
  client: Client;
  credentials: Credentials;
  /** a device of the account with its key pair in the key store */
  device(name?: string): Promise<Device>;
}

export interface Device {
  account: Account;
  id: string;
  publicKey: string;
  privateKey: string;
}

export interface TestDaemon {
  running: RunningDaemon;
  backend: MemoryBackend;
  stateDir: string;
  logs: string[];
  /** the spec last applied to a network's interface; undefined while it does not exist */
  spec(networkId: string): InterfaceSpec | undefined;
  stop(): Promise<void>;
}

export async function startLab(settings: Record<string, string> = {}): Promise<Lab> {
  process.env.WARREN_CONFIG_DIR = tempDir();
  // No STUN: these daemons run without NAT traversal.
  const serverSettings = { RECONNECT_AFTER: "100ms", STUN_PORT: "", ...settings };
  const t = await startTestServer(sqliteBackend, serverSettings);
  const proxy = await startProxy(t.server.port);
  const daemons: TestDaemon[] = [];
  let server = t.server;

  const account = async (prefix: string): Promise<Account> => {
    const { user, tokens } = await register(t.api, { username: uniqueName(prefix) });
    const client = createClient({ baseUrl: t.url, tokens: tokens as never });
    const credentials: Credentials = {
      server: proxy.url,
      user: { id: user.id, username: user.username },
      tokens: tokens as never,
    };
    const self: Account = {
      id: user.id,
      username: user.username,
      client,
      credentials,
      async device(name = uniqueName("d")) {
        const keys = generateWireGuardKeys();
        const made = await client.devices.create({ name, platform: "linux", public_key: keys.publicKey });
        // The daemon reads its key from the store under the server it talks to: the proxy.
        saveDevice({
          server: proxy.url,
          user_id: user.id,
          device_id: made.id,
          name,
          platform: "linux",
          private_key: keys.privateKey,
          public_key: keys.publicKey,
        });
        return { account: self, id: made.id, publicKey: keys.publicKey, privateKey: keys.privateKey };
      },
    };
    return self;
  };

  const daemon = async (device: Device, targets: NetworkTarget[], stateDir = tempDir()) => {
    const backend = createMemoryBackend();
    const logs: string[] = [];
    const { credentials } = device.account;
    // Its own client through the proxy, with its own copy of the tokens, as `warren up` has.
    const client = createClient({ baseUrl: proxy.url, tokens: credentials.tokens });
    const running = await startDaemon({
      client,
      credentials,
      deviceId: device.id,
      backend,
      prefix: PREFIX,
      endpoint: "192.0.2.7",
      nat: false,
      targets,
      stateDir,
      reconnect: { minDelayMs: 50, maxDelayMs: 400 },
      log: (line) => logs.push(line),
    });
    const made: TestDaemon = {
      running,
      backend,
      stateDir,
      logs,
      spec: (networkId) => backend.interfaces.get(interfaceName(networkId, PREFIX)),
      stop: () => running.stop(),
    };
    daemons.push(made);
    return made;
  };

  return {
    t,
    proxy,
    account,
    daemon,
    async restartServer(whileDown) {
      const port = server.port;
      await server.close();
      await whileDown?.();
      server = await startServer(configFor(t.database, { ...serverSettings, PORT: String(port) }));
    },
    async close() {
      await Promise.all(daemons.map((d) => d.stop()));
      await proxy.close();
      await server.close();
      await t.database.drop();
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A community (open to join) and a network in it, owned by `owner`. */
export async function community(owner: Account, network: { join_policy?: "open" | "approval" } = {}) {
  const tenant = await owner.client.tenants.create({
    name: uniqueName("c"),
    access: "open",
    visibility: "public",
  });
  const lan = await networkIn(owner, tenant.id, network);
  return { tenant, network: lan };
}

let subnet = 0;
/** Another network in the community, with a range of its own. */
export async function networkIn(
  owner: Account,
  tenantId: string,
  options: { join_policy?: "open" | "approval" } = {},
): Promise<NetworkTarget & { cidr: string }> {
  subnet += 1;
  const n = await owner.client.networks.create(tenantId, {
    name: uniqueName("n"),
    cidr: `10.77.${subnet}.0/24`,
    join_policy: options.join_policy ?? "open",
    visibility: "public",
  });
  return { id: n.id, name: n.name, tenant_id: n.tenant_id, cidr: n.cidr };
}

/** `device` as a peer of the network: its owner joins the community and network first. */
export async function peerOf(
  device: Device,
  network: NetworkTarget,
): Promise<{ id: string; address: string }> {
  const { client } = device.account;
  await client.tenants.join(network.tenant_id).catch(() => undefined);
  const joined = await client.networks.get(network.id);
  if (joined.my_status === null) await client.networks.join(network.id);
  const peer = await client.networks.addPeer(network.id, device.id);
  return { id: peer.id, address: peer.address };
}

/**
 * Waits until `check` returns something other than undefined or false (it may throw
 * meanwhile: the last error is reported), polling every 20 ms for at most `ms`.
 */
export async function until<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 5_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`not within ${ms} ms: ${what}${last ? ` (${(last as Error).message})` : ""}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
