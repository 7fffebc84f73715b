import { uuidv7 } from "@warren/protocol";
import { describe, expect, it } from "vitest";
import { type Open, useDatabase, violation } from "./fixtures.js";

/** The devices repository on every backend. */
export function devicesContract(name: string, open: Open) {
  describe(`devices repository on ${name}`, () => {
    const { repos, db, fixtures } = useDatabase(open);
    const AT = "2030-01-01T00:00:00.000Z";

    it("stores devices, lists a user's by id and reads one only for its owner", async () => {
      const u = await fixtures().user();
      const other = await fixtures().user();
      const a = await fixtures().device(u.id, "a");
      const b = await fixtures().device(u.id, "b");
      await fixtures().device(other.id);
      expect(await repos().devices.listOf(u.id)).toEqual([a, b].sort((x, y) => x.id.localeCompare(y.id)));
      expect(await repos().devices.get(a.id, u.id)).toEqual(a);
      expect(await repos().devices.get(a.id, other.id)).toBeUndefined();
      expect(await repos().devices.get(uuidv7(), u.id)).toBeUndefined();
      expect(await repos().devices.owns(u.id, a.id)).toBe(true);
      expect(await repos().devices.owns(other.id, a.id)).toBe(false);
      expect(await repos().devices.listOf(uuidv7())).toEqual([]);
    });

    it("refuses a second device with the same public key", async () => {
      const u = await fixtures().user();
      const a = await fixtures().device(u.id);
      const dup = { ...a, id: uuidv7() };
      expect(await violation(() => repos().devices.insert(dup))).toMatch(/public_key/);
    });

    it("renames and re-keys only the owner's device", async () => {
      const u = await fixtures().user();
      const other = await fixtures().user();
      const d = await fixtures().device(u.id);
      expect(await repos().devices.rename(d.id, other.id, "x", AT)).toBe(false);
      expect(await repos().devices.rename(d.id, u.id, "desk", AT)).toBe(true);
      expect(await repos().devices.setKey(d.id, other.id, "k2", AT)).toBe(false);
      expect(await repos().devices.setKey(d.id, u.id, `k-${d.id}`, AT)).toBe(true);
      expect(await repos().devices.get(d.id, u.id)).toEqual({
        ...d,
        name: "desk",
        public_key: `k-${d.id}`,
        updated_at: AT,
      });
      expect(await repos().devices.rename(uuidv7(), u.id, "x", AT)).toBe(false);
    });

    it("lists the networks of devices by network id, and stamps last_seen on device and peers", async () => {
      const u = await fixtures().user();
      const t = await fixtures().tenant(u.id);
      const n1 = await fixtures().network(t.id);
      const n2 = await fixtures().network(t.id);
      const d = await fixtures().device(u.id);
      const p2 = await fixtures().peer(n2.id, d.id, u.id, 7);
      const p1 = await fixtures().peer(n1.id, d.id, u.id, 3);
      const rows = await repos().devices.networksOf([d.id, uuidv7()]);
      expect(rows).toEqual(
        [
          { device_id: d.id, network_id: n1.id, peer_id: p1.id, address: p1.address },
          { device_id: d.id, network_id: n2.id, peer_id: p2.id, address: p2.address },
        ].sort((x, y) => x.network_id.localeCompare(y.network_id)),
      );
      expect(await repos().devices.networksOf([])).toEqual([]);
      await repos().devices.touch(d.id, AT);
      expect((await repos().devices.get(d.id, u.id))?.last_seen).toBe(AT);
      expect((await repos().peers.ofDevice(d.id)).map((p) => p.last_seen)).toEqual([AT, AT]);
    });

    it("deletes the owner's device with its peers; another user's stays", async () => {
      const u = await fixtures().user();
      const other = await fixtures().user();
      const t = await fixtures().tenant(u.id);
      const n = await fixtures().network(t.id);
      const d = await fixtures().device(u.id);
      await fixtures().peer(n.id, d.id, u.id, 2);
      expect(await repos().devices.delete(d.id, other.id)).toBe(false);
      expect(await repos().peers.ofDevice(d.id)).toHaveLength(1);
      expect(await repos().devices.delete(d.id, u.id)).toBe(true);
      expect(await repos().devices.delete(d.id, u.id)).toBe(false);
      expect(await repos().peers.ofNetwork(n.id)).toEqual([]);
    });

    it("goes with its user (cascade), peers included", async () => {
      const u = await fixtures().user();
      const owner = await fixtures().user();
      const t = await fixtures().tenant(owner.id);
      const n = await fixtures().network(t.id);
      const d = await fixtures().device(u.id);
      await fixtures().peer(n.id, d.id, u.id, 2);
      await db().deleteFrom("users").where("id", "=", u.id).execute();
      expect(await repos().devices.listOf(u.id)).toEqual([]);
      expect(await repos().peers.ofNetwork(n.id)).toEqual([]);
    });
  });
}
