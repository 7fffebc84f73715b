import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "../chat-fixtures.js";
import { type HubUser, hubUser } from "../helpers/hub-client.js";
import { ok } from "./clients.js";
import { type Cluster, type Instance, skipCluster, startCluster } from "./harness.js";

/**
 * 100 devices joining one network at once, spread round-robin over
 * three instances, get 100 different addresses. Only the database's row lock and unique
 * index can keep three processes from handing one address out twice.
 */
const skip = skipCluster("cluster suite: 100 addresses over three instances");

const USERS = 10;
const DEVICES_PER_USER = 10;

const toNum = (ip: string) => ip.split(".").reduce((n, part) => n * 256 + Number(part), 0);

describe.skipIf(skip)("three instances: address allocation", () => {
  let cluster: Cluster;
  let instances: Instance[];
  const at = (i: number) => instances[i % instances.length] as Instance;

  beforeAll(async () => {
    cluster = await startCluster();
    instances = cluster.instances;
  }, 150_000);

  afterAll(async () => {
    await cluster?.close();
  }, 60_000);

  it("100 concurrent joins over A, B and C get 100 distinct addresses of the range", async () => {
    const owner = await hubUser(at(0).api);
    const tenant = await fixtures(at(0).api).community(owner);
    const created = await at(1).api("POST", `/v1/tenants/${tenant}/networks`, {
      token: owner.token,
      body: { name: "hundred", cidr: "100.64.7.0/24", visibility: "public", join_policy: "open" },
    });
    const net = ok(created, 201).id as string;

    const users: HubUser[] = await Promise.all(Array.from({ length: USERS }, (_, i) => hubUser(at(i).api)));
    await Promise.all(
      users.map(async (u, i) => {
        await fixtures(at(i).api).join(tenant, u);
        await fixtures(at(i + 1).api).joinNetwork(net, u);
      }),
    );
    const devices = (
      await Promise.all(
        users.map((u, i) =>
          Promise.all(
            Array.from({ length: DEVICES_PER_USER }, (_, k) => fixtures(at(i + k).api).device(u, `d${k}`)),
          ),
        ),
      )
    ).flatMap((list, i) => list.map((d) => ({ user: users[i] as HubUser, device: d.id })));
    expect(devices).toHaveLength(USERS * DEVICES_PER_USER);

    // all at once, the n-th through instance n mod 3
    const answers = await Promise.all(
      devices.map(({ user, device }, n) =>
        at(n).api("POST", `/v1/networks/${net}/peers`, { token: user.token, body: { device_id: device } }),
      ),
    );
    const refused = answers.filter((r) => r.status !== 201);
    expect(refused.map((r) => `${r.status} ${JSON.stringify(r.body)}`)).toEqual([]);
    const addresses = answers.map((r) => r.body.address as string);
    expect(new Set(addresses).size).toBe(100);
    const base = toNum("100.64.7.0");
    for (const ip of addresses) {
      const host = toNum(ip) - base;
      // not the network address, the first host (the network's own) or the broadcast address
      expect(host, ip).toBeGreaterThan(1);
      expect(host, ip).toBeLessThan(255);
    }

    // every instance reads back the same 100 peers
    const lists = await Promise.all(
      instances.map((inst) => inst.api("GET", `/v1/networks/${net}/peers`, { token: owner.token })),
    );
    for (const res of lists) {
      const peers = ok(res, 200).peers as { address: string }[];
      expect(peers.map((p) => p.address).sort()).toEqual([...addresses].sort());
    }
  });
});
