import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { backends } from "./helpers/backends.js";
import { clientPool, type HubUser } from "./helpers/hub-client.js";
import { startTestServer, type TestServer } from "./helpers/server.js";
import { networkFixtures, RANDOM_ID } from "./networks-fixtures.js";

const num = (address: string) => address.split(".").reduce((n, o) => n * 256 + Number(o), 0);

describe.each(backends())("networks: addresses and peers ($name)", (backend) => {
  let t: TestServer;
  let f: ReturnType<typeof networkFixtures>;
  let cast: Awaited<ReturnType<ReturnType<typeof networkFixtures>["cast"]>>;
  const pool = clientPool();
  let subnet = 0;
  const next24 = () => `10.${150 + ++subnet}.0`;

  /** `count` devices of `user`, added one after another; returns their addresses. */
  const fill = async (id: string, user: HubUser, count: number) => {
    const out: string[] = [];
    for (let i = 0; i < count; i++)
      out.push((await f.peer(id, user, (await f.device(user, `d${i}`)).id)).address);
    return out;
  };

  beforeAll(async () => {
    t = await startTestServer(backend);
    f = networkFixtures(t.api);
    cast = await f.cast();
  }, 60_000);
  afterEach(() => pool.closeAll());
  afterAll(() => t.close());

  it("hands out the lowest free host, skipping network, first host and broadcast, until the /29 is full", async () => {
    const base = next24();
    const id = await f.network(cast.tenant, cast.owner, { cidr: `${base}.8/29` });
    await f.joined(id, cast.member);
    const watcher = await pool.connect(t.url, cast.owner);
    const addresses = await fill(id, cast.member, 4);
    const last = await f.device(cast.member, "last");
    addresses.push((await f.peer(id, cast.member, last.id)).address);
    expect(addresses).toEqual([10, 11, 12, 13, 14].map((h) => `${base}.${h}`));
    const added = await watcher.next("peer_added", 5000);
    expect(added).toMatchObject({
      type: "peer_added",
      network_id: id,
      peer: { address: `${base}.10`, user_id: cast.member.id },
    });
    expect(Object.keys(added.peer).sort()).toEqual(
      [
        "address",
        "device_id",
        "endpoint",
        "id",
        "last_seen",
        "name",
        "network_id",
        "online",
        "public_key",
        "user_id",
      ].sort(),
    );
    const full = await f.addPeer(id, cast.member, (await f.device(cast.member, "one-too-many")).id);
    expect(full.status).toBe(409);
    expect(full.body.error.code).toBe("network_full");
    // the same device again is already in
    const dup = await f.addPeer(id, cast.member, last.id);
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe("already_member");
  });

  it("draws random addresses within the hosts, never twice", async () => {
    const base = next24();
    const id = await f.network(cast.tenant, cast.owner, { cidr: `${base}.0/27`, allocation: "random" });
    await f.joined(id, cast.member);
    const addresses = await fill(id, cast.member, 20);
    expect(new Set(addresses).size).toBe(20);
    for (const a of addresses) {
      expect(num(a)).toBeGreaterThanOrEqual(num(`${base}.2`));
      expect(num(a)).toBeLessThanOrEqual(num(`${base}.30`));
    }
    // 20 of 29 hosts: being exactly the lowest twenty in order would not be random
    expect(addresses).not.toEqual(Array.from({ length: 20 }, (_, i) => `${base}.${i + 2}`));
  });

  it("reservations: admins list, add and remove them; allocation skips them; conflicts answer 409", async () => {
    const base = next24();
    const id = await f.network(cast.tenant, cast.owner, { cidr: `${base}.0/24` });
    await f.joined(id, cast.member);
    const path = `/v1/networks/${id}/reservations`;
    const reserve = (address: string, token = cast.admin.token, note?: string) =>
      t.api("POST", path, { token, body: note ? { address, note } : { address } });
    expect((await reserve(`${base}.3`, cast.admin.token, "printer")).body).toMatchObject({
      network_id: id,
      address: `${base}.3`,
      note: "printer",
      by_id: cast.admin.id,
    });
    f.ok(await reserve(`${base}.2`), 201);
    expect((await reserve(`${base}.2`)).body.error.code).toBe("address_taken");
    expect((await reserve(`${base}.9`, cast.moderator.token)).status).toBe(403);
    expect((await t.api("GET", path, { token: cast.member.token })).status).toBe(403);
    for (const bad of [`${base}.0`, `${base}.1`, `${base}.255`, "10.0.0.9"]) {
      const res = await reserve(bad);
      expect(res.status, bad).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
    }
    expect(await fill(id, cast.member, 2)).toEqual([`${base}.4`, `${base}.5`]);
    expect((await reserve(`${base}.4`)).body.error).toMatchObject({
      code: "address_taken",
      message: `${base}.4 is held by another device`,
    });
    const list = await t.api("GET", path, { token: cast.admin.token });
    expect(list.body.reservations.map((r: any) => r.address)).toEqual([`${base}.2`, `${base}.3`]);
    expect((await t.api("DELETE", `${path}/${base}.2`, { token: cast.member.token })).status).toBe(403);
    expect((await t.api("DELETE", `${path}/${base}.2`, { token: cast.admin.token })).status).toBe(204);
    expect((await t.api("DELETE", `${path}/${base}.2`, { token: cast.admin.token })).status).toBe(404);
    expect(await fill(id, cast.member, 1)).toEqual([`${base}.2`]);
  });

  it("pins: admins choose their device's address; taken, reserved and non-host addresses are refused", async () => {
    const base = next24();
    const id = await f.network(cast.tenant, cast.owner, { cidr: `${base}.0/24` });
    await f.joined(id, cast.admin);
    await f.joined(id, cast.member);
    const pinned = await f.peer(id, cast.admin, (await f.device(cast.admin, "server")).id, `${base}.2`);
    expect(pinned.address).toBe(`${base}.2`);
    f.ok(
      await t.api("POST", `/v1/networks/${id}/reservations`, {
        token: cast.admin.token,
        body: { address: `${base}.50` },
      }),
      201,
    );
    const device = await f.device(cast.admin, "other");
    const cases: [string, number, string][] = [
      [`${base}.2`, 409, "address_taken"],
      [`${base}.50`, 409, "address_taken"],
      [`${base}.0`, 400, "invalid_request"],
      [`${base}.1`, 400, "invalid_request"],
      [`${base}.255`, 400, "invalid_request"],
      ["10.9.9.9", 400, "invalid_request"],
    ];
    for (const [address, status, code] of cases) {
      const res = await f.addPeer(id, cast.admin, device.id, address);
      expect(res.status, address).toBe(status);
      expect(res.body.error.code, address).toBe(code);
    }
    const byMember = await f.addPeer(id, cast.member, (await f.device(cast.member, "m")).id, `${base}.77`);
    expect(byMember.status).toBe(403);
    // allocation steps over the pinned address
    expect(await fill(id, cast.member, 1)).toEqual([`${base}.3`]);
  });

  it("only my own device, only as an active member; a device's networks may not overlap, across communities", async () => {
    const base = next24();
    const id = await f.network(cast.tenant, cast.owner, { cidr: `${base}.0/24` });
    const device = await f.device(cast.member, "roamer");
    const notMember = await f.addPeer(id, cast.member, device.id);
    expect(notMember.status).toBe(403);
    expect(notMember.body.error.message).toBe("Join the network first");
    await f.joined(id, cast.member);
    const othersDevice = await f.device(cast.other, "not-yours");
    expect((await f.addPeer(id, cast.member, othersDevice.id)).status).toBe(404);
    expect((await f.addPeer(id, cast.member, RANDOM_ID)).status).toBe(404);
    const approval = await f.network(cast.tenant, cast.owner, {
      cidr: `${next24()}.0/24`,
      join_policy: "approval",
    });
    f.ok(await f.join(approval, cast.member), 201);
    const pending = await f.addPeer(approval, cast.member, device.id);
    expect(pending.status).toBe(403);
    expect(pending.body.error.message).toMatch(/waiting for approval/);

    f.ok(await f.addPeer(id, cast.member, device.id), 201);
    // another community with an overlapping range: this device may not be in both
    const owner2 = await f.user();
    const tenant2 = await f.community(owner2);
    await f.member(tenant2, cast.member, "member", owner2);
    const wide = await f.network(tenant2, owner2, {
      cidr: `${base.split(".").slice(0, 2).join(".")}.0.0/16`,
    });
    await f.joined(wide, cast.member);
    const conflict = await f.addPeer(wide, cast.member, device.id);
    expect(conflict.status).toBe(409);
    expect(conflict.body.error).toMatchObject({
      code: "cidr_conflict",
      details: { network_id: id, cidr: `${base}.0/24` },
    });
    // another device of the same user is fine there, and so is this device in a disjoint range
    f.ok(await f.addPeer(wide, cast.member, (await f.device(cast.member, "second")).id), 201);
    const disjoint = await f.network(tenant2, owner2, { cidr: "192.168.77.0/24" });
    await f.joined(disjoint, cast.member);
    f.ok(await f.addPeer(disjoint, cast.member, device.id), 201);
  });

  it("an admin moves a device; members' live sockets hear peer_updated; conflicts and outsiders are refused", async () => {
    const base = next24();
    const id = await f.network(cast.tenant, cast.owner, { cidr: `${base}.0/24` });
    await f.joined(id, cast.member);
    await f.joined(id, cast.other);
    const peer = await f.peer(id, cast.member, (await f.device(cast.member, "mover")).id);
    const otherPeer = await f.peer(id, cast.other, (await f.device(cast.other, "stay")).id);
    f.ok(
      await t.api("POST", `/v1/networks/${id}/reservations`, {
        token: cast.admin.token,
        body: { address: `${base}.40` },
      }),
      201,
    );
    const watcher = await pool.connect(t.url, cast.other);
    const moved = await pool.connect(t.url, cast.member);
    const move = (address: string, token = cast.admin.token, peerId = peer.id) =>
      t.api("PATCH", `/v1/peers/${peerId}/address`, { token, body: { address } });

    const res = await move(`${base}.99`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: peer.id, address: `${base}.99`, network_id: id });
    for (const socket of [watcher, moved]) {
      expect(await socket.next("peer_updated", 5000)).toEqual({
        type: "peer_updated",
        network_id: id,
        peer: res.body,
      });
    }
    expect((await move(otherPeer.address)).body.error.code).toBe("address_taken");
    expect((await move(`${base}.40`)).body.error.code).toBe("address_taken");
    expect((await move(`${base}.255`)).status).toBe(400);
    expect((await move(`${base}.1`)).status).toBe(400);
    expect((await move(`${base}.98`, cast.member.token)).status).toBe(403);
    expect((await move(`${base}.98`, cast.moderator.token)).status).toBe(403);
    const stranger = await f.user();
    const hidden = await move(`${base}.98`, stranger.token);
    expect(hidden.status).toBe(404);
    expect(hidden.body.error.message).toBe("No such peer");
    expect((await move(`${base}.98`, cast.admin.token, RANDOM_ID)).body.error.message).toBe("No such peer");
    // the same address is no change, and no event
    expect((await move(`${base}.99`)).body.address).toBe(`${base}.99`);
    // the freed address goes to the next device
    expect(await fill(id, cast.other, 1)).toEqual([peer.address]);
  });

  it("100 devices joining one network at the same moment get 100 different addresses", async () => {
    const tenant = await f.community(cast.owner);
    const id = await f.network(tenant, cast.owner, { cidr: "10.250.0.0/24" });
    const users = await Promise.all(Array.from({ length: 10 }, () => f.user()));
    for (const u of users) {
      await f.member(tenant, u, "member", cast.owner);
      await f.joined(id, u);
    }
    const devices = (
      await Promise.all(
        users.map((u) => Promise.all(Array.from({ length: 10 }, (_, i) => f.device(u, `c${i}`)))),
      )
    ).flatMap((list, i) => list.map((d) => ({ user: users[i] as HubUser, device: d.id })));
    expect(devices).toHaveLength(100);
    const answers = await Promise.all(devices.map(({ user, device }) => f.addPeer(id, user, device)));
    expect(answers.map((a) => a.status)).toEqual(Array(100).fill(201));
    const addresses = answers.map((a) => a.body.address as string);
    expect(new Set(addresses).size).toBe(100);
    // sequential allocation: exactly the hundred lowest hosts
    expect(addresses.map(num).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 100 }, (_, i) => num("10.250.0.2") + i),
    );
  }, 120_000);
});
