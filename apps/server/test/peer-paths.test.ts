import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sqliteBackend } from "./helpers/backends.js";
import { clientPool, hubUser } from "./helpers/hub-client.js";
import { startTestServer, type TestServer } from "./helpers/server.js";
import { networkFixtures } from "./networks-fixtures.js";

describe("peer paths: what each device reports about its paths to the others", () => {
  let t: TestServer;
  let f: ReturnType<typeof networkFixtures>;
  const pool = clientPool();

  beforeAll(async () => {
    t = await startTestServer(sqliteBackend, { STUN_PORT: "" });
    f = networkFixtures(t.api);
  }, 60_000);
  afterEach(() => pool.closeAll());
  afterAll(() => t.close());

  it("keeps the owner's latest report, shows it with the peers and announces peer_path; others cannot report", async () => {
    const [owner, other] = await Promise.all([hubUser(t.api), hubUser(t.api)]);
    const tenant = await f.community(owner);
    await f.member(tenant, other, "member", owner);
    const net = await f.network(tenant, owner, { cidr: "10.71.0.0/24" });
    await f.joined(net, other);
    const d1 = await f.device(owner, "a");
    const d2 = await f.device(other, "b");
    const p1 = await f.peer(net, owner, d1.id);
    await f.peer(net, other, d2.id);
    const before = await t.api("GET", `/v1/networks/${net}/peers`, { token: other.token });
    expect(before.body.peers.every((p: { path_report?: unknown }) => p.path_report === undefined)).toBe(true);

    const watcher = await pool.connect(t.url, other);
    const body = {
      nat: "symmetric",
      paths: [
        {
          device_id: d2.id,
          path: "relay",
          endpoint: null,
          local_candidate: "relay",
          relay_instance: "abc",
          reason: "relay: symmetric NAT here",
          rtt_ms: null,
        },
      ],
    };
    const put = await t.api("PUT", `/v1/peers/${p1.id}/paths`, { token: owner.token, body });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject(body);
    const event = await watcher.next("peer_path");
    expect(event).toMatchObject({ network_id: net, peer_id: p1.id, device_id: d1.id, report: body });

    const after = await t.api("GET", `/v1/networks/${net}/peers`, { token: other.token });
    const mine = after.body.peers.find((p: { id: string }) => p.id === p1.id);
    expect(mine.path_report).toMatchObject({ ...body, updated_at: expect.any(String) });

    const forged = await t.api("PUT", `/v1/peers/${p1.id}/paths`, { token: other.token, body });
    expect(forged.status).toBe(404);
    const bad = await t.api("PUT", `/v1/peers/${p1.id}/paths`, {
      token: owner.token,
      body: { nat: "weird", paths: [] },
    });
    expect(bad.status).toBe(400);
  });
});
