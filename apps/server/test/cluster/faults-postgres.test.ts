import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "../chat-fixtures.js";
import { type Device, dmKit, type Person } from "../dm-fixtures.js";
import type { Api } from "../helpers/server.js";
import { type HubClient, hubPool, ok } from "./clients.js";
import {
  type Cluster,
  eventually,
  type Instance,
  type PrivatePostgres,
  privatePostgresSkipReason,
  skipCluster,
  sleep,
  startCluster,
  startPrivatePostgres,
} from "./harness.js";

/**
 * Faults: PostgreSQL restarted under load (a private cluster, so no other suite
 * loses its database). Three instances take chat posts and direct messages by REST and
 * over the hub the whole time. Every answer is a success or 503 service_unavailable;
 * every acknowledged message is there afterwards; the instances recover by themselves.
 */
const skip = skipCluster("cluster suite: PostgreSQL restarted under load", privatePostgresSkipReason);

interface Outcome {
  kind: "chat" | "dm" | "hub-dm";
  instance: string;
  at: number;
  /** HTTP status, "result" or "error" for hub frames, or what went wrong on the way */
  status: number | string;
  code?: string;
  id?: string;
  content?: string;
}

const acknowledged = (o: Outcome) => o.status === 201 || o.status === "result";
const refusedCleanly = (o: Outcome) =>
  (o.status === 503 || o.status === "error") && o.code === "service_unavailable";

/** Every id of a paged history (newest first, `next_cursor` as `before`). */
async function allPages(api: Api, path: string, token: string): Promise<Map<string, any>> {
  const found = new Map<string, any>();
  let cursor: string | null = null;
  do {
    const sep = path.includes("?") ? "&" : "?";
    const url: string = `${path}${sep}limit=100${cursor ? `&before=${cursor}` : ""}`;
    const page: any = ok(await api("GET", url, { token }), 200);
    for (const m of page.messages) found.set(m.id, m);
    cursor = page.next_cursor;
  } while (cursor);
  return found;
}

describe.skipIf(skip)("three instances: PostgreSQL restarted under load", { timeout: 180_000 }, () => {
  let database: PrivatePostgres | undefined;
  let cluster: Cluster | undefined;
  let instances: Instance[];
  let alice: Person;
  let bob: Person;
  let tenant: string;
  let a: HubClient;
  const pool = hubPool();
  const dev = (p: Person) => p.devices[0] as Device;

  beforeAll(async () => {
    database = await startPrivatePostgres();
    cluster = await startCluster({ databaseUrl: database.url });
    instances = cluster.instances;
    const [A, B] = instances as [Instance, Instance];
    [alice, bob] = await Promise.all([dmKit(A.api).person(["a1"]), dmKit(B.api).person(["b1"])]);
    tenant = await fixtures(A.api).community(alice);
    await fixtures(B.api).join(tenant, bob);
    a = await pool.connect(A, alice, "a1");
  }, 150_000);

  afterAll(async () => {
    await pool.closeAll();
    await cluster?.close();
    await database?.remove();
  }, 90_000);

  it("in-flight requests answer 503 or succeed, nothing acknowledged is lost, and the instances recover", async () => {
    const outcomes: Outcome[] = [];
    let stop = false;
    let loops = 0;
    const record = (o: Omit<Outcome, "at">) => outcomes.push({ ...o, at: Date.now() });

    const chatLoop = async (inst: Instance) => {
      loops += 1;
      const loop = loops;
      for (let n = 0; !stop; n++) {
        const content = `${inst.name}-${loop}-${n}`;
        try {
          const res = await inst.api("POST", `/v1/tenants/${tenant}/messages`, {
            token: n % 2 ? bob.token : alice.token,
            body: { content },
          });
          record({
            kind: "chat",
            instance: inst.name,
            status: res.status,
            code: res.body?.error?.code,
            id: res.body?.id,
            content,
          });
        } catch (err) {
          record({ kind: "chat", instance: inst.name, status: `request failed: ${(err as Error).message}` });
        }
        await sleep(20);
      }
    };
    const dmLoop = async (inst: Instance) => {
      const kit = dmKit(inst.api);
      while (!stop) {
        try {
          const res = await kit.post(bob, kit.envelope(bob, dev(bob), alice));
          record({
            kind: "dm",
            instance: inst.name,
            status: res.status,
            code: res.body?.error?.code,
            id: res.body?.id,
          });
        } catch (err) {
          record({ kind: "dm", instance: inst.name, status: `request failed: ${(err as Error).message}` });
        }
        await sleep(20);
      }
    };
    // over the hub, below the frame rate limit (20/s)
    const hubLoop = async () => {
      const kit = dmKit((instances[0] as Instance).api);
      while (!stop) {
        try {
          const reply = await a.request({ type: "dm.send", ...kit.envelope(alice, dev(alice), bob) }, 15_000);
          record({
            kind: "hub-dm",
            instance: "A",
            status: reply.type,
            code: reply.code,
            id: reply.result?.id,
          });
        } catch (err) {
          record({ kind: "hub-dm", instance: "A", status: `no reply: ${(err as Error).message}` });
        }
        await sleep(100);
      }
    };

    const tally = () => {
      const counts: Record<string, number> = {};
      for (const o of outcomes) {
        const key = `${o.instance} ${o.kind} ${o.status}${o.code ? ` ${o.code}` : ""}`;
        counts[key] = (counts[key] ?? 0) + 1;
      }
      return counts;
    };
    const running = [
      ...instances.flatMap((inst) => [chatLoop(inst), chatLoop(inst), dmLoop(inst)]),
      hubLoop(),
    ];
    await sleep(1_500);
    const before = outcomes.length;
    const restarting = Date.now();
    await (database as PrivatePostgres).restart();
    const restarted = Date.now();
    try {
      // keep the load on until every instance has acknowledged something again
      // (or one has died: no point waiting then)
      await eventually(
        () =>
          instances.some((inst) => !inst.alive()) ||
          instances.every((inst) =>
            outcomes.some((o) => o.instance === inst.name && o.at > restarted && acknowledged(o)),
          ),
        60_000,
        "every instance to acknowledge a request after the restart",
      );
      await sleep(Math.max(0, restarted + 3_000 - Date.now()));
    } finally {
      stop = true;
      await Promise.all(running);
      console.info(
        `cluster PostgreSQL restart took ${restarted - restarting} ms; ${outcomes.length} requests, ${before} before it`,
        tally(),
      );
    }
    // a restarted database must not take a server down with it
    const dead = instances.filter((i) => !i.alive()).map((i) => `${i.name}: ${i.proc.output().slice(-3000)}`);
    expect(dead).toEqual([]);

    const other = outcomes.filter((o) => !acknowledged(o) && !refusedCleanly(o));
    expect(other).toEqual([]);
    expect(outcomes.filter(acknowledged).length).toBeGreaterThan(0);

    // everything acknowledged is there, read through another instance than the one that took it
    const [A, B, C] = instances as [Instance, Instance, Instance];
    const chat = await allPages(C.api, `/v1/tenants/${tenant}/messages`, alice.token);
    for (const o of outcomes.filter((x) => x.kind === "chat" && acknowledged(x))) {
      expect(chat.get(o.id as string)?.content, `chat ${o.id} acknowledged by ${o.instance}`).toBe(o.content);
    }
    const toAlice = await allPages(
      A.api,
      `/v1/messages/direct?with=${bob.id}&device_key_id=${dev(alice).keyId}`,
      alice.token,
    );
    const toBob = await allPages(
      B.api,
      `/v1/messages/direct?with=${alice.id}&device_key_id=${dev(bob).keyId}`,
      bob.token,
    );
    for (const o of outcomes.filter((x) => x.kind !== "chat" && acknowledged(x))) {
      const where = o.kind === "dm" ? toAlice : toBob;
      expect(where.has(o.id as string), `${o.kind} ${o.id} acknowledged by ${o.instance}`).toBe(true);
    }

    // recovered by themselves: alive, ready, and the hub socket open across the restart still works
    for (const [i, inst] of instances.entries()) {
      expect(inst.alive(), `${inst.name} still running`).toBe(true);
      await eventually(
        async () => (await (cluster as Cluster).ready(i)) === 200,
        30_000,
        `${inst.name} ready`,
      );
    }
    expect((await a.request({ type: "ping" }, 15_000)).type).toBe("pong");
  });
});
