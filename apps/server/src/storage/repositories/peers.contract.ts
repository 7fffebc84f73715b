import { uuidv7 } from "@warren/protocol";
import { describe, expect, it } from "vitest";
import { type Open, useDatabase, violation } from "./fixtures.js";
import type { ReservationRow } from "./peers.js";

/** The peers repository (peers, addresses, reservations, locks) on every backend. */
export function peersContract(name: string, open: Open) {
  describe(`peers repository on ${name}`, () => {
    const { repos, db, fixtures } = useDatabase(open);
    const AT = "2030-01-01T00:00:00.000Z";
    const setup = async () => {
      const u = await fixtures().user();
      const t = await fixtures().tenant(u.id);
      const n = await fixtures().network(t.id, { name: "home", cidr: "10.9.0.0/24" });
      const d = await fixtures().device(u.id, "phone");
      return { u, t, n, d };
    };
    const reservation = (networkId: string, num: number, by: string): ReservationRow => ({
      network_id: networkId,
      address_num: num,
      address: `10.9.0.${num}`,
      note: "gw",
      by_id: by,
      created_at: AT,
    });

    it("reads a peer with its device and network; absent ids find nothing", async () => {
      const { u, t, n, d } = await setup();
      const p = await fixtures().peer(n.id, d.id, u.id, 4);
      const view = {
        id: p.id,
        network_id: n.id,
        device_id: d.id,
        user_id: u.id,
        name: "phone",
        address: p.address,
        public_key: d.public_key,
        endpoint: null,
        last_seen: null,
        tenant_id: t.id,
        network_name: "home",
        cidr: "10.9.0.0/24",
      };
      expect(await repos().peers.get(p.id)).toEqual(view);
      expect(await repos().peers.getOwned(p.id, u.id)).toEqual(view);
      expect(await repos().peers.getOwned(p.id, uuidv7())).toBeUndefined();
      expect(await repos().peers.get(uuidv7())).toBeUndefined();
      expect(await repos().peers.has(n.id, d.id)).toBe(true);
      expect(await repos().peers.has(n.id, uuidv7())).toBe(false);
      expect(await repos().peers.deviceOwner(d.id)).toBe(u.id);
      expect(await repos().peers.deviceOwner(uuidv7())).toBeUndefined();
    });

    it("lists a network's peers in address (number) order, a device's by network, a user's in one network", async () => {
      const { u, t, n, d } = await setup();
      const other = await fixtures().user();
      const n2 = await fixtures().network(t.id);
      const d2 = await fixtures().device(u.id);
      const d3 = await fixtures().device(other.id);
      const p10 = await fixtures().peer(n.id, d.id, u.id, 10);
      const p9 = await fixtures().peer(n.id, d2.id, u.id, 9);
      const p100 = await fixtures().peer(n.id, d3.id, other.id, 100);
      const q = await fixtures().peer(n2.id, d.id, u.id, 10);
      // 9 < 10 < 100 as numbers (as text "100" < "9")
      expect((await repos().peers.ofNetwork(n.id)).map((p) => p.id)).toEqual([p9.id, p10.id, p100.id]);
      expect((await repos().peers.ofDevice(d.id)).map((p) => p.id)).toEqual(
        [p10, q].sort((a, b) => a.network_id.localeCompare(b.network_id)).map((p) => p.id),
      );
      expect((await repos().peers.ofUser(n.id, u.id)).map((p) => p.id).sort()).toEqual(
        [p9.id, p10.id].sort(),
      );
      expect((await repos().peers.networksOfDevice(d.id)).sort((a, b) => a.id.localeCompare(b.id))).toEqual(
        [
          { id: n.id, name: "home", cidr: "10.9.0.0/24" },
          { id: n2.id, name: n2.name, cidr: n2.cidr },
        ].sort((a, b) => a.id.localeCompare(b.id)),
      );
      expect(await repos().peers.ofNetwork(uuidv7())).toEqual([]);
    });

    it("refuses a second peer of a device in a network, and a second holder of an address", async () => {
      const { u, n, d } = await setup();
      await fixtures().peer(n.id, d.id, u.id, 2);
      expect(await violation(() => fixtures().peer(n.id, d.id, u.id, 3))).toMatch(
        /device|peers_network_device/,
      );
      const d2 = await fixtures().device(u.id);
      expect(await violation(() => fixtures().peer(n.id, d2.id, u.id, 2))).toMatch(
        /address|peers_network_address/,
      );
    });

    it("moves an address and an endpoint; deletes one peer or a user's peers in a network", async () => {
      const { u, n, d } = await setup();
      const other = await fixtures().user();
      const p = await fixtures().peer(n.id, d.id, u.id, 2);
      const o = await fixtures().peer(n.id, (await fixtures().device(other.id)).id, other.id, 3);
      await repos().peers.setAddress(p.id, "10.9.0.20", 20, AT);
      expect(await repos().peers.holder(n.id, 20)).toEqual({ kind: "peer", id: p.id });
      expect(await repos().peers.holder(n.id, 2)).toBeUndefined();
      expect(await repos().peers.setEndpoint(p.id, "198.51.100.1:51820", AT)).toBe(true);
      expect(await repos().peers.get(p.id)).toMatchObject({
        address: "10.9.0.20",
        endpoint: "198.51.100.1:51820",
      });
      expect(await repos().peers.setEndpoint(p.id, null, AT)).toBe(true);
      expect((await repos().peers.get(p.id))?.endpoint).toBeNull();
      expect(await repos().peers.setEndpoint(uuidv7(), null, AT)).toBe(false);
      await repos().peers.deleteOfUser(n.id, u.id);
      expect((await repos().peers.ofNetwork(n.id)).map((x) => x.id)).toEqual([o.id]);
      expect(await repos().peers.delete(o.id)).toBe(true);
      expect(await repos().peers.delete(o.id)).toBe(false);
    });

    it("counts held and reserved addresses as taken; reservations by number, once each", async () => {
      const { u, n, d } = await setup();
      await fixtures().peer(n.id, d.id, u.id, 5);
      await repos().peers.reserve(reservation(n.id, 200, u.id));
      await repos().peers.reserve(reservation(n.id, 1, u.id));
      expect((await repos().peers.takenNums(n.id)).sort((a, b) => a - b)).toEqual([1, 5, 200]);
      expect(await repos().peers.holder(n.id, 1)).toEqual({ kind: "reserved" });
      expect((await repos().peers.reservations(n.id)).map((r) => Number(r.address_num))).toEqual([1, 200]);
      expect((await repos().peers.reservations(n.id))[0]).toMatchObject({
        address: "10.9.0.1",
        note: "gw",
        by_id: u.id,
      });
      await expect(repos().peers.reserve(reservation(n.id, 1, u.id))).rejects.toThrow();
      expect(await repos().peers.unreserve(n.id, 1)).toBe(true);
      expect(await repos().peers.unreserve(n.id, 1)).toBe(false);
      expect(await repos().peers.takenNums(uuidv7())).toEqual([]);
    });

    // Callers lock only on PostgreSQL: SQLite runs one write transaction at a time and
    // has no FOR UPDATE, so there the statements are refused.
    it("locks a network that exists and a device, in a transaction (PostgreSQL only)", async () => {
      const { n, d } = await setup();
      const { createPeersRepository } = await import("./peers.js");
      const locks = () =>
        db()
          .transaction()
          .execute(async (tx) => {
            const peers = createPeersRepository(tx);
            await peers.lockDevice(d.id);
            return [await peers.lockNetwork(n.id), await peers.lockNetwork(uuidv7())];
          });
      if (name === "postgres") expect(await locks()).toEqual([true, false]);
      else await expect(locks()).rejects.toThrow(/syntax error/);
    });

    it("goes with its network and its device (cascade), reservations with the network", async () => {
      const { u, t, n, d } = await setup();
      const p = await fixtures().peer(n.id, d.id, u.id, 2);
      await repos().peers.reserve(reservation(n.id, 9, u.id));
      await repos().networks.delete(n.id);
      expect(await repos().peers.get(p.id)).toBeUndefined();
      expect(await repos().peers.reservations(n.id)).toEqual([]);
      const n2 = await fixtures().network(t.id);
      const q = await fixtures().peer(n2.id, d.id, u.id, 2);
      await db().deleteFrom("devices").where("id", "=", d.id).execute();
      expect(await repos().peers.get(q.id)).toBeUndefined();
    });
  });
}
