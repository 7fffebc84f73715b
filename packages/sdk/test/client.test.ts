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
