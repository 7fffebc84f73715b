import { uuidv7 } from "@warren/protocol";
import { describe, expect, it } from "vitest";
import { newUser, now, type Open, useDatabase, violation } from "./fixtures.js";
import type { RefreshTokenRow, SessionRow } from "./sessions.js";

/** The sessions repository (sessions and refresh tokens) on every backend. */
export function sessionsContract(name: string, open: Open) {
  describe(`sessions repository on ${name}`, () => {
    const { repos, db, fixtures } = useDatabase(open);
    const session = (userId: string, over: Partial<SessionRow> = {}): SessionRow => {
      const t = now();
      return {
        id: uuidv7(),
        user_id: userId,
        created_at: t,
        refreshed_at: t,
        expires_at: "2999-01-01T00:00:00.000Z",
        revoked_at: null,
        revoke_reason: null,
        signin_key_id: null,
        proved_at: null,
        user_agent: null,
        ...over,
      };
    };
    const token = (s: SessionRow, over: Partial<RefreshTokenRow> = {}): RefreshTokenRow => ({
      id: uuidv7(),
      session_id: s.id,
      token_hash: `h${uuidv7()}`,
      created_at: s.created_at,
      expires_at: s.expires_at,
      rotated_at: null,
      ...over,
    });

    it("rotates a refresh token exactly once, even when raced", async () => {
      const u = newUser();
      await repos().users.insert(u);
      const s = session(u.id);
      const first = token(s);
      await repos().sessions.create(s, first);
      const next = () => ({ ...first, id: uuidv7(), token_hash: `h${uuidv7()}`, created_at: now() });
      const results = await Promise.all(
        [next(), next(), next(), next()].map((row) => repos().sessions.rotate(first.id, row, row.expires_at)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await repos().sessions.tokenByHash(first.token_hash))?.rotated_at).not.toBeNull();
      expect(await repos().sessions.revoke(s.id, now(), "test")).toBe(true);
      expect(await repos().sessions.revoke(s.id, now(), "again")).toBe(false);
      expect((await repos().sessions.byId(s.id))?.revoke_reason).toBe("test");
    });

    it("creates the session and its token together; absent ids and hashes find nothing", async () => {
      const u = await fixtures().user();
      const s = session(u.id, { user_agent: "curl" });
      const t = token(s);
      await repos().sessions.create(s, t);
      expect(await repos().sessions.byId(s.id)).toEqual(s);
      expect(await repos().sessions.tokenByHash(t.token_hash)).toEqual(t);
      expect(await repos().sessions.byId(uuidv7())).toBeUndefined();
      expect(await repos().sessions.tokenByHash("nope")).toBeUndefined();
      expect(await repos().sessions.withAccount(uuidv7())).toBeUndefined();
    });

    it("creates nothing when the token is refused (one transaction)", async () => {
      const u = await fixtures().user();
      const s1 = session(u.id);
      const t1 = token(s1);
      await repos().sessions.create(s1, t1);
      const s2 = session(u.id);
      expect(
        await violation(() => repos().sessions.create(s2, token(s2, { token_hash: t1.token_hash }))),
      ).toMatch(/token_hash/);
      expect(await repos().sessions.byId(s2.id)).toBeUndefined();
    });

    it("rotation stores the successor, moves the session's expiry and refuses a used token", async () => {
      const u = await fixtures().user();
      const s = session(u.id);
      const t = token(s);
      await repos().sessions.create(s, t);
      const at = "2040-01-01T00:00:00.000Z";
      const next = token(s, { created_at: at, expires_at: "2041-01-01T00:00:00.000Z" });
      expect(await repos().sessions.rotate(t.id, next, "2041-01-01T00:00:00.000Z")).toBe(true);
      expect((await repos().sessions.tokenByHash(t.token_hash))?.rotated_at).toBe(at);
      expect(await repos().sessions.tokenByHash(next.token_hash)).toEqual(next);
      const after = await repos().sessions.byId(s.id);
      expect(after?.refreshed_at).toBe(at);
      expect(after?.expires_at).toBe("2041-01-01T00:00:00.000Z");
      const again = token(s);
      expect(await repos().sessions.rotate(t.id, again, again.expires_at)).toBe(false);
      expect(await repos().sessions.tokenByHash(again.token_hash)).toBeUndefined();
      expect(await repos().sessions.rotate(uuidv7(), token(s), s.expires_at)).toBe(false);
    });

    it("lists live sessions newest first: not revoked, not expired, only the user's", async () => {
      const u = await fixtures().user();
      const other = await fixtures().user();
      const old = session(u.id, { created_at: "2020-01-01T00:00:00.000Z" });
      const newer = session(u.id, { created_at: "2021-01-01T00:00:00.000Z" });
      const expired = session(u.id, {
        created_at: "2022-01-01T00:00:00.000Z",
        expires_at: "2024-06-01T00:00:00.000Z",
      });
      const revoked = session(u.id, { created_at: "2023-01-01T00:00:00.000Z" });
      for (const s of [old, newer, expired, revoked, session(other.id)])
        await repos().sessions.create(s, token(s));
      expect(await repos().sessions.revoke(revoked.id, now(), "logout")).toBe(true);
      const live = await repos().sessions.listLive(u.id, "2025-01-01T00:00:00.000Z");
      expect(live.map((s) => s.id)).toEqual([newer.id, old.id]);
      expect(await repos().sessions.revoke(uuidv7(), now(), "x")).toBe(false);
    });

    it("gives the session with its account and sign-in key; records the proof", async () => {
      const u = await fixtures().user({ is_admin: 0 });
      const keyId = uuidv7();
      await repos().keys.insert({
        id: keyId,
        user_id: u.id,
        kind: "ed25519",
        public_key: `pk${keyId}`,
        label: null,
        created_at: now(),
      });
      const s = session(u.id, { signin_key_id: keyId });
      await repos().sessions.create(s, token(s));
      await repos().sessions.setProved(s.id, "2030-01-01T00:00:00.000Z");
      expect(await repos().sessions.withAccount(s.id)).toEqual({
        id: s.id,
        user_id: u.id,
        created_at: s.created_at,
        expires_at: s.expires_at,
        revoked_at: null,
        signin_key_id: keyId,
        proved_at: "2030-01-01T00:00:00.000Z",
        username: u.username,
        username_key: u.username_key,
        is_admin: 0,
        signin_key: `pk${keyId}`,
      });
      const plain = session(u.id);
      await repos().sessions.create(plain, token(plain));
      expect((await repos().sessions.withAccount(plain.id))?.signin_key).toBeNull();
    });

    it("removes sessions and their tokens with the user (cascade)", async () => {
      const u = await fixtures().user();
      const s = session(u.id);
      const t = token(s);
      await repos().sessions.create(s, t);
      await db().deleteFrom("users").where("id", "=", u.id).execute();
      expect(await repos().sessions.byId(s.id)).toBeUndefined();
      expect(await repos().sessions.tokenByHash(t.token_hash)).toBeUndefined();
    });
  });
}
