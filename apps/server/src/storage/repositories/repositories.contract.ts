import { uuidv7 } from "@warren/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../create-database.js";
import { analyticsContract } from "./analytics.contract.js";
import { createRepositories, type Repositories } from "./index.js";
import type { UserRow } from "./users.js";

/**
 * One body of repository tests that every storage backend must pass. `open` gives a
 * migrated, empty database.
 */
export function repositoryContract(
  name: string,
  open: () => Promise<{ database: Database; drop(): Promise<void> }>,
) {
  describe(`repositories on ${name}`, () => {
    let database: Database;
    let drop: () => Promise<void>;
    let repos: Repositories;
    beforeAll(async () => {
      ({ database, drop } = await open());
      repos = createRepositories(database.db);
    });
    afterAll(async () => {
      await database?.close();
      await drop?.();
    });

    const now = () => new Date().toISOString();
    let n = 0;
    const newUser = (over: Partial<UserRow> = {}): UserRow => {
      n += 1;
      const username = `User_${n}_${Math.random().toString(36).slice(2, 8)}`;
      return {
        id: uuidv7(),
        username,
        username_key: username.toLowerCase(),
        email: null,
        email_key: null,
        display_name: null,
        password_hash: "h",
        totp_secret: null,
        totp_enabled_at: null,
        totp_last_step: null,
        is_admin: 0,
        created_at: now(),
        updated_at: now(),
        ...over,
      };
    };

    it("stores users and finds them by id, username (any case) and email", async () => {
      const u = newUser({ email: "Ann@Example.com", email_key: "ann@example.com" });
      await repos.users.insert(u);
      expect(await repos.users.byId(u.id)).toEqual(u);
      expect((await repos.users.byUsername(u.username.toUpperCase()))?.id).toBe(u.id);
      expect((await repos.users.byEmail("ANN@example.com"))?.id).toBe(u.id);
      expect(await repos.users.byId(uuidv7())).toBeUndefined();
    });

    it("refuses a second user with the same username in another case, and the same email", async () => {
      const u = newUser();
      await repos.users.insert(u);
      await expect(
        repos.users.insert(newUser({ username: u.username.toUpperCase(), username_key: u.username_key })),
      ).rejects.toThrow();
      const e = newUser({ email: "dup@example.com", email_key: "dup@example.com" });
      await repos.users.insert(e);
      await expect(
        repos.users.insert(newUser({ email: "DUP@example.com", email_key: "dup@example.com" })),
      ).rejects.toThrow();
      // Many accounts without email are fine.
      await repos.users.insert(newUser());
      await repos.users.insert(newUser());
    });

    it("claims TOTP steps only forwards, once each", async () => {
      const u = newUser();
      await repos.users.insert(u);
      expect(await repos.users.claimTotpStep(u.id, 100, now())).toBe(true);
      expect(await repos.users.claimTotpStep(u.id, 100, now())).toBe(false);
      expect(await repos.users.claimTotpStep(u.id, 99, now())).toBe(false);
      const race = await Promise.all([101, 101, 101].map((s) => repos.users.claimTotpStep(u.id, s, now())));
      expect(race.filter(Boolean)).toHaveLength(1);
    });

    it("keeps public keys unique per kind and deletes only the owner's", async () => {
      const a = newUser();
      const b = newUser();
      await repos.users.insert(a);
      await repos.users.insert(b);
      const key = {
        id: uuidv7(),
        user_id: a.id,
        kind: "ed25519" as const,
        public_key: `k${n}`,
        label: null,
        created_at: now(),
      };
      await repos.keys.insert(key);
      await expect(repos.keys.insert({ ...key, id: uuidv7(), user_id: b.id })).rejects.toThrow();
      await repos.keys.insert({ ...key, id: uuidv7(), kind: "x25519" });
      expect((await repos.keys.byPublicKey("ed25519", key.public_key))?.user_id).toBe(a.id);
      expect(await repos.keys.listForUser(a.id)).toHaveLength(2);
      expect(await repos.keys.delete(b.id, key.id)).toBe(false);
      expect(await repos.keys.delete(a.id, key.id)).toBe(true);
      expect(await repos.keys.listForUser(a.id)).toHaveLength(1);
    });

    it("rotates a refresh token exactly once, even when raced", async () => {
      const u = newUser();
      await repos.users.insert(u);
      const t = now();
      const session = {
        id: uuidv7(),
        user_id: u.id,
        created_at: t,
        refreshed_at: t,
        expires_at: "2999-01-01T00:00:00.000Z",
        revoked_at: null,
        revoke_reason: null,
        signin_key_id: null,
        proved_at: null,
        user_agent: null,
      };
      const first = {
        id: uuidv7(),
        session_id: session.id,
        token_hash: `h${uuidv7()}`,
        created_at: t,
        expires_at: session.expires_at,
        rotated_at: null,
      };
      await repos.sessions.create(session, first);
      const next = () => ({ ...first, id: uuidv7(), token_hash: `h${uuidv7()}`, created_at: now() });
      const results = await Promise.all(
        [next(), next(), next(), next()].map((row) => repos.sessions.rotate(first.id, row, row.expires_at)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await repos.sessions.tokenByHash(first.token_hash))?.rotated_at).not.toBeNull();
      expect(await repos.sessions.revoke(session.id, now(), "test")).toBe(true);
      expect(await repos.sessions.revoke(session.id, now(), "again")).toBe(false);
      expect((await repos.sessions.byId(session.id))?.revoke_reason).toBe("test");
    });

    it("consumes a challenge once and never after expiry", async () => {
      const u = newUser();
      await repos.users.insert(u);
      const live = {
        id: uuidv7(),
        user_id: u.id,
        challenge: "c",
        expires_at: new Date(Date.now() + 60_000).toISOString(),
        used_at: null,
      };
      const dead = { ...live, id: uuidv7(), expires_at: new Date(Date.now() - 1000).toISOString() };
      await repos.challenges.insert(live);
      await repos.challenges.insert(dead);
      const race = await Promise.all([1, 2, 3].map(() => repos.challenges.consume(live.id, now())));
      expect(race.filter(Boolean)).toHaveLength(1);
      expect(race.find(Boolean)?.user_id).toBe(u.id);
      expect(await repos.challenges.consume(dead.id, now())).toBeUndefined();
      expect(await repos.challenges.purge(now())).toBeGreaterThanOrEqual(1);
    });

    it("uses each recovery code once", async () => {
      const u = newUser();
      await repos.users.insert(u);
      await repos.recoveryCodes.replace(
        u.id,
        ["a", "b"].map((h) => ({ id: uuidv7(), user_id: u.id, code_hash: h, used_at: null })),
      );
      expect(await repos.recoveryCodes.countUnused(u.id)).toBe(2);
      const race = await Promise.all([1, 2].map(() => repos.recoveryCodes.consume(u.id, "a", now())));
      expect(race.filter(Boolean)).toHaveLength(1);
      expect(await repos.recoveryCodes.consume(u.id, "zzz", now())).toBe(false);
      expect(await repos.recoveryCodes.countUnused(u.id)).toBe(1);
      await repos.recoveryCodes.deleteAll(u.id);
      expect(await repos.recoveryCodes.countUnused(u.id)).toBe(0);
    });

    it("records audit events and lists them newest first, filtered", async () => {
      const actor = uuidv7();
      for (const action of ["a.one", "a.two", "a.one"]) {
        await repos.audit.insert({
          id: uuidv7(),
          actor_id: actor,
          action,
          target: null,
          tenant_id: null,
          ip: null,
          details: null,
          created_at: now(),
        });
      }
      const all = await repos.audit.list({ actorId: actor });
      expect(all.map((e) => e.action)).toEqual(["a.one", "a.two", "a.one"]);
      expect(await repos.audit.list({ actorId: actor, action: "a.one" })).toHaveLength(2);
    });

    it("deletes a user's keys, sessions and codes with the user (foreign keys on)", async () => {
      const u = newUser();
      await repos.users.insert(u);
      await repos.keys.insert({
        id: uuidv7(),
        user_id: u.id,
        kind: "ed25519",
        public_key: `fk${uuidv7()}`,
        label: null,
        created_at: now(),
      });
      await database.db.deleteFrom("users").where("id", "=", u.id).execute();
      expect(await repos.keys.listForUser(u.id)).toHaveLength(0);
      await expect(
        repos.keys.insert({
          id: uuidv7(),
          user_id: uuidv7(),
          kind: "ed25519",
          public_key: `x${uuidv7()}`,
          label: null,
          created_at: now(),
        }),
      ).rejects.toThrow();
    });

    analyticsContract(() => repos, newUser);
  });
}
