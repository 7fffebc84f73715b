import { WebSocket } from "ws";
import {
  type Client,
  createClient,
  createMemoryKeyStore,
  type DirectEvents,
  type DirectMessage,
  type KeyStore,
} from "../src/index.js";
import { PASSWORD, signUp, uniqueName } from "./fixtures.js";

/** A user of the direct-message tests: their account, signed in once per device. */
export interface Person {
  user: { id: string; username: string };
  client: Client;
  /** another client of the same account: another device (over `fetch`, if given) */
  another(fetch?: typeof globalThis.fetch): Promise<Client>;
}

/** `n` accounts that share an open community, so they may message each other. */
export async function friends(url: string, n: 1): Promise<[Person]>;
export async function friends(url: string, n: 2): Promise<[Person, Person]>;
export async function friends(url: string, n: number): Promise<Person[]> {
  const people = await Promise.all(Array.from({ length: n }, () => signUp(url)));
  const [owner, ...rest] = people as [Awaited<ReturnType<typeof signUp>>, ...typeof people];
  const tenant = await owner.client.tenants.create({
    name: uniqueName("dm"),
    access: "open",
    visibility: "public",
  });
  await Promise.all(rest.map((p) => p.client.tenants.join(tenant.id)));
  return people.map(({ client, user }) => ({
    user,
    client,
    async another(fetch?: typeof globalThis.fetch) {
      const c = createClient({ baseUrl: url, fetch });
      await c.auth.login({ username: user.username, password: PASSWORD });
      return c;
    },
  }));
}

/** Sets up `client` as message device `device` over a `ws` socket. */
export async function deviceOf(
  client: Client,
  device: string,
  options: { store?: KeyStore; connect?: boolean } = {},
) {
  const store = options.store ?? createMemoryKeyStore();
  const info = await client.direct.setup({
    device,
    store,
    socket: { WebSocket, reconnect: { minDelayMs: 50, maxDelayMs: 200 } },
    connect: options.connect,
  });
  return { info, store };
}

/** The next `n` messages of `client`'s inbox, or a rejection naming what came after `ms`. */
export async function take(client: Client, n: number, ms = 5000): Promise<DirectMessage[]> {
  const got: DirectMessage[] = [];
  const iterator = client.direct.messages();
  const deadline = Date.now() + ms;
  while (got.length < n) {
    const left = deadline - Date.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), Math.max(0, left));
    });
    const next = await Promise.race([iterator.next(), timeout]);
    clearTimeout(timer);
    if (next === "timeout") {
      throw new Error(`got ${got.length} of ${n} messages in ${ms} ms: ${JSON.stringify(got)}`);
    }
    if (next.done) break;
    got.push(next.value);
  }
  return got;
}

/** Nothing arrives in `client`'s inbox within `ms` (it would wait there, untaken). */
export async function nothingWithin(client: Client, ms = 300): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
  if (client.direct.pending !== 0) throw new Error(`expected no message, ${client.direct.pending} arrived`);
}

/** Every event of `type` that `client.direct` emits from now on. */
export function record<K extends keyof DirectEvents>(client: Client, type: K): DirectEvents[K][] {
  const seen: DirectEvents[K][] = [];
  client.direct.on(type, (e) => seen.push(e));
  return seen;
}

/** Polls `check` until it is true or `ms` pass. */
export async function until(check: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
