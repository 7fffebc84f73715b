import { uuidv7 } from "@warren/protocol";
import { describe, expect, it } from "vitest";
import { newUser, now, type Open, useDatabase, violation } from "./fixtures.js";

/** The users repository on every backend. */
export function usersContract(name: string, open: Open) {
  describe(`users repository on ${name}`, () => {
    const { repos } = useDatabase(open);

    it("stores users and finds them by id, username (any case) and email", async () => {
      const u = newUser({ email: "Ann@Example.com", email_key: "ann@example.com" });
      await repos().users.insert(u);
      expect(await repos().users.byId(u.id)).toEqual(u);
      expect((await repos().users.byUsername(u.username.toUpperCase()))?.id).toBe(u.id);
      expect((await repos().users.byEmail("ANN@example.com"))?.id).toBe(u.id);
      expect(await repos().users.byId(uuidv7())).toBeUndefined();
    });

    it("refuses a second user with the same username in another case, and the same email", async () => {
      const u = newUser();
      await repos().users.insert(u);
      await expect(
        repos().users.insert(newUser({ username: u.username.toUpperCase(), username_key: u.username_key })),
      ).rejects.toThrow();
      const e = newUser({ email: "dup@example.com", email_key: "dup@example.com" });
      await repos().users.insert(e);
      await expect(
        repos().users.insert(newUser({ email: "DUP@example.com", email_key: "dup@example.com" })),
      ).rejects.toThrow();
      // Many accounts without email are fine.
      await repos().users.insert(newUser());
      await repos().users.insert(newUser());
    });

    it("names the unique key a duplicate hit, on either dialect", async () => {
      const u = newUser({ email: "named@example.com", email_key: "named@example.com" });
      await repos().users.insert(u);
      expect(await violation(() => repos().users.insert(newUser({ username_key: u.username_key })))).toMatch(
        /username_key/,
      );
      expect(
        await violation(() => repos().users.insert(newUser({ email_key: "named@example.com" }))),
      ).toMatch(/email_key/);
      expect(await violation(() => repos().users.insert(newUser({ id: u.id })))).toMatch(/id|primary|pkey/);
    });

    it("claims TOTP steps only forwards, once each", async () => {
      const u = newUser();
      await repos().users.insert(u);
      expect(await repos().users.claimTotpStep(u.id, 100, now())).toBe(true);
      expect(await repos().users.claimTotpStep(u.id, 100, now())).toBe(false);
      expect(await repos().users.claimTotpStep(u.id, 99, now())).toBe(false);
      const race = await Promise.all([101, 101, 101].map((s) => repos().users.claimTotpStep(u.id, s, now())));
      expect(race.filter(Boolean)).toHaveLength(1);
      expect((await repos().users.byId(u.id))?.totp_last_step).toBe(101);
      expect(await repos().users.claimTotpStep(uuidv7(), 500, now())).toBe(false);
    });

    it("says whether any account exists", async () => {
      expect(await repos().users.any()).toBe(true);
    });

    it("finds many by id (id and username only), ignoring unknown ids", async () => {
      const a = newUser();
      const b = newUser();
      await repos().users.insert(a);
      await repos().users.insert(b);
      expect(await repos().users.byIds([])).toEqual([]);
      const found = await repos().users.byIds([a.id, b.id, uuidv7()]);
      expect(found.sort((x, y) => x.id.localeCompare(y.id))).toEqual(
        [a, b].map((u) => ({ id: u.id, username: u.username })).sort((x, y) => x.id.localeCompare(y.id)),
      );
    });

    it("updates only the named user and columns; absent emails and names find nothing", async () => {
      const a = newUser();
      const b = newUser();
      await repos().users.insert(a);
      await repos().users.insert(b);
      await repos().users.update(a.id, { display_name: "Ann", email: "A@x.org", email_key: "a@x.org" });
      const got = await repos().users.byId(a.id);
      expect(got).toEqual({ ...a, display_name: "Ann", email: "A@x.org", email_key: "a@x.org" });
      expect((await repos().users.byEmail("a@X.org"))?.id).toBe(a.id);
      expect(await repos().users.byId(b.id)).toEqual(b);
      expect(await repos().users.byEmail("nobody@x.org")).toBeUndefined();
      expect(await repos().users.byUsername("no_such_user")).toBeUndefined();
      await repos().users.update(uuidv7(), { display_name: "ghost" });
    });
  });
}
