import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sqliteBackend } from "../../../apps/server/test/helpers/backends.js";
import { startTestServer, type TestServer, uniqueName } from "../../../apps/server/test/helpers/server.js";
import { createClient, generateEd25519, WarrenError } from "../src/index.js";

describe("sdk client against a real server", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(sqliteBackend, { ACCESS_TOKEN_TTL: "3s" });
  });
  afterAll(async () => t?.close());

  it("registers, reads me, and refreshes an expired access token by itself", async () => {
    const seen: unknown[] = [];
    const client = createClient({ baseUrl: t.url, onTokens: (tk) => seen.push(tk) });
    const { user } = await client.auth.register({
      username: uniqueName("sdk"),
      password: "correct horse battery",
    });
    expect((await client.auth.me()).id).toBe(user.id);
    const first = client.tokens?.refresh_token;
    await new Promise((r) => setTimeout(r, 4100));
    const [a, b] = await Promise.all([client.auth.me(), client.auth.me()]);
    expect([a.id, b.id]).toEqual([user.id, user.id]);
    expect(client.tokens?.refresh_token).not.toBe(first);
    expect(seen).toHaveLength(2);
  });

  it("signs in with an Ed25519 key made on the device", async () => {
    const keys = generateEd25519();
    const username = uniqueName("sdkkey");
    await createClient({ baseUrl: t.url }).auth.register({ username, public_key: keys.publicKey });
    const client = createClient({ baseUrl: t.url });
    const { user } = await client.auth.loginWithKey({ username }, keys.secretKey);
    expect(user.username).toBe(username);
    await client.auth.logout();
    expect(client.tokens).toBeUndefined();
  });

  it("proves identity again, lists and ends sessions, and changes the password", async () => {
    const keys = generateEd25519();
    const username = uniqueName("sdkses");
    const client = createClient({ baseUrl: t.url });
    await client.auth.register({ username, password: "correct horse battery", public_key: keys.publicKey });
    const other = createClient({ baseUrl: t.url });
    await other.auth.login({ username, password: "correct horse battery" });
    const proof = await client.auth.reauthenticate("correct horse battery");
    expect(Date.parse(proof.fresh_until)).toBeGreaterThan(Date.parse(proof.proved_at));
    expect((await client.auth.reauthenticateWithKey({ username }, keys.secretKey)).proved_at).toBeTruthy();
    const sessions = await client.auth.sessions();
    expect(sessions).toHaveLength(2);
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    const theirs = sessions.find((s) => !s.current);
    await client.auth.revokeSession(theirs?.id as string);
    const refused = await other.auth.me().catch((e: unknown) => e);
    expect((refused as WarrenError).code).toBe("invalid_token");
    const changed = await client.auth.changePassword({
      current_password: "correct horse battery",
      new_password: "another horse battery",
    });
    expect(changed.revoked_sessions).toBe(0);
    expect((await client.auth.revokeOtherSessions()).revoked_sessions).toBe(0);
    await createClient({ baseUrl: t.url }).auth.login({ username, password: "another horse battery" });
  });

  it("throws WarrenError with the server's code", async () => {
    const client = createClient({ baseUrl: t.url });
    const err = await client.auth
      .login({ username: "nobody_at_all", password: "wrong wrong" })
      .catch((e) => e);
    expect(err).toBeInstanceOf(WarrenError);
    expect([err.code, err.status]).toEqual(["invalid_credentials", 401]);
    const down = await createClient({ baseUrl: "http://127.0.0.1:1" })
      .auth.me()
      .catch((e) => e);
    expect(down.code).toBe("network_error");
  });
});
