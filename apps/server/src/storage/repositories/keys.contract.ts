import { uuidv7 } from "@warren/protocol";
import { describe, expect, it } from "vitest";
import { newUser, now, type Open, useDatabase, violation } from "./fixtures.js";
import type { KeyRow } from "./keys.js";

/** The keys repository on every backend. */
export function keysContract(name: string, open: Open) {
  describe(`keys repository on ${name}`, () => {
    const { repos, db, fixtures } = useDatabase(open);
    let n = 0;
    const key = (userId: string, over: Partial<KeyRow> = {}): KeyRow => {
      n += 1;
      return {
        id: uuidv7(),
        user_id: userId,
        kind: "ed25519",
        public_key: `k${n}-${uuidv7()}`,
        label: null,
        created_at: now(),
        device: null,
        ...over,
      };
    };

    it("keeps public keys unique per kind and deletes only the owner's", async () => {
      const a = newUser();
      const b = newUser();
      await repos().users.insert(a);
      await repos().users.insert(b);
      const k = {
        id: uuidv7(),
        user_id: a.id,
        kind: "ed25519" as const,
        public_key: `k${n}`,
        label: null,
        created_at: now(),
      };
      await repos().keys.insert(k);
      await expect(repos().keys.insert({ ...k, id: uuidv7(), user_id: b.id })).rejects.toThrow();
      await repos().keys.insert({ ...k, id: uuidv7(), kind: "x25519" });
      expect((await repos().keys.byPublicKey("ed25519", k.public_key))?.user_id).toBe(a.id);
      expect(await repos().keys.listForUser(a.id)).toHaveLength(2);
      expect(await repos().keys.delete(b.id, k.id)).toBe(false);
      expect(await repos().keys.delete(a.id, k.id)).toBe(true);
      expect(await repos().keys.listForUser(a.id)).toHaveLength(1);
    });

    it("deletes a user's keys, sessions and codes with the user (foreign keys on)", async () => {
      const u = newUser();
      await repos().users.insert(u);
      await repos().keys.insert({
        id: uuidv7(),
        user_id: u.id,
        kind: "ed25519",
        public_key: `fk${uuidv7()}`,
        label: null,
        created_at: now(),
      });
      await db().deleteFrom("users").where("id", "=", u.id).execute();
      expect(await repos().keys.listForUser(u.id)).toHaveLength(0);
      await expect(
        repos().keys.insert({
          id: uuidv7(),
          user_id: uuidv7(),
          kind: "ed25519",
          public_key: `x${uuidv7()}`,
          label: null,
          created_at: now(),
        }),
      ).rejects.toThrow();
    });

    it("reads a key by id and lists a user's keys in id order; absent ids find nothing", async () => {
      const u = await fixtures().user();
      const first = key(u.id, { label: "one" });
      const second = key(u.id, { kind: "x25519", device: "d1" });
      await repos().keys.insert(second.id > first.id ? first : second);
      await repos().keys.insert(second.id > first.id ? second : first);
      expect(await repos().keys.byId(first.id)).toEqual(first);
      expect((await repos().keys.listForUser(u.id)).map((k) => k.id)).toEqual([first.id, second.id]);
      expect(await repos().keys.byId(uuidv7())).toBeUndefined();
      expect(await repos().keys.byPublicKey("x25519", first.public_key)).toBeUndefined();
      expect(await repos().keys.listForUser(uuidv7())).toEqual([]);
    });

    it("names the unique key of (kind, public_key) and of (user, device, kind)", async () => {
      const u = await fixtures().user();
      const k = key(u.id, { device: "dev" });
      await repos().keys.insert(k);
      expect(await violation(() => repos().keys.insert(key(u.id, { public_key: k.public_key })))).toMatch(
        /public_key/,
      );
      expect(await violation(() => repos().keys.insert(key(u.id, { device: "dev" })))).toMatch(
        /device|user_keys_user_device_kind_unique/,
      );
      // the same device may hold one key of each kind
      await repos().keys.insert(key(u.id, { device: "dev", kind: "x25519" }));
    });

    it("gives the message keys: X25519 keys of devices only, of the named users, by id", async () => {
      const a = await fixtures().user();
      const b = await fixtures().user();
      const c = await fixtures().user();
      const rows = [
        key(a.id, { kind: "x25519", device: "a1" }),
        key(a.id, { kind: "x25519", device: "a2" }),
        key(a.id, { kind: "x25519" }), // no device
        key(a.id, { kind: "ed25519", device: "a1" }),
        key(b.id, { kind: "x25519", device: "b1" }),
        key(c.id, { kind: "x25519", device: "c1" }),
      ];
      for (const r of rows) await repos().keys.insert(r);
      const got = await repos().keys.messageKeys(a.id, b.id);
      expect(got.map((k) => k.id)).toEqual([rows[0], rows[1], rows[4]].map((r) => r?.id).sort());
      // a message to oneself: one user's keys, each once
      const own = await repos().keys.messageKeys(a.id, a.id);
      expect(own.map((k) => k.id)).toEqual([rows[0], rows[1]].map((r) => r?.id).sort());
      expect(await repos().keys.ofDevice(a.id, "a1", "ed25519")).toEqual(rows[3]);
      expect((await repos().keys.ofDevice(a.id, "a1", "x25519"))?.id).toBe(rows[0]?.id);
      expect(await repos().keys.ofDevice(b.id, "a1", "x25519")).toBeUndefined();
      expect(await repos().keys.ofDevice(a.id, "zz", "x25519")).toBeUndefined();
    });
  });
}
