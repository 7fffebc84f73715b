import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "./helpers/backends.js";
import { ed25519Pair } from "./helpers/keys.js";
import { type Api, startTestServer, type TestServer, uniqueName } from "./helpers/server.js";

async function keyAccount(api: Api) {
  const pair = ed25519Pair();
  const username = uniqueName("k");
  const res = await api("POST", "/v1/auth/register", { body: { username, public_key: pair.publicKey } });
  if (res.status !== 201) throw new Error(JSON.stringify(res.body));
  return { pair, username, userId: res.body.user.id as string };
}

describe.each(backends())("key sign-in on $name", (backend) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(backend);
  });
  afterAll(async () => t?.close());

  const challenge = (body: Record<string, unknown>) => t.api("POST", "/v1/auth/challenge", { body });
  const verify = (challenge_id: string, signature: string) =>
    t.api("POST", "/v1/auth/verify", { body: { challenge_id, signature } });

  it("signs in with a signature over the challenge bytes, by username or by public key", async () => {
    const a = await keyAccount(t.api);
    for (const body of [{ username: a.username }, { public_key: a.pair.publicKey }]) {
      const c = await challenge(body);
      expect(c.status).toBe(200);
      const bytes = Buffer.from(c.body.challenge, "base64");
      expect(bytes).toHaveLength(32);
      const ttl = Date.parse(c.body.expires_at) - Date.now();
      expect(ttl).toBeGreaterThan(50_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
      const res = await verify(c.body.challenge_id, a.pair.sign(bytes));
      expect(res.status).toBe(200);
      expect(res.body.user.id).toBe(a.userId);
      expect((await t.api("GET", "/v1/auth/me", { token: res.body.tokens.access_token })).status).toBe(200);
    }
  });

  it("accepts a challenge only once (replay → invalid_challenge)", async () => {
    const a = await keyAccount(t.api);
    const c = await challenge({ username: a.username });
    const sig = a.pair.sign(Buffer.from(c.body.challenge, "base64"));
    expect((await verify(c.body.challenge_id, sig)).status).toBe(200);
    const replay = await verify(c.body.challenge_id, sig);
    expect([replay.status, replay.body.error.code]).toEqual([401, "invalid_challenge"]);
  });

  it("spends the challenge on a bad signature too", async () => {
    const a = await keyAccount(t.api);
    const c = await challenge({ username: a.username });
    const bad = await verify(c.body.challenge_id, Buffer.alloc(64, 7).toString("base64"));
    expect([bad.status, bad.body.error.code]).toEqual([401, "invalid_signature"]);
    const good = await verify(c.body.challenge_id, a.pair.sign(Buffer.from(c.body.challenge, "base64")));
    expect([good.status, good.body.error.code]).toEqual([401, "invalid_challenge"]);
  });

  it("refuses another account's key: a challenge is for its account only", async () => {
    const a = await keyAccount(t.api);
    const b = await keyAccount(t.api);
    const c = await challenge({ username: a.username });
    const res = await verify(c.body.challenge_id, b.pair.sign(Buffer.from(c.body.challenge, "base64")));
    expect([res.status, res.body.error.code]).toEqual([401, "invalid_signature"]);
  });

  it("refuses a signature over other bytes", async () => {
    const a = await keyAccount(t.api);
    const c = await challenge({ username: a.username });
    const res = await verify(c.body.challenge_id, a.pair.sign(Buffer.from("something else")));
    expect(res.body.error.code).toBe("invalid_signature");
  });

  it("gives unknown accounts a challenge that looks real and never verifies", async () => {
    const c = await challenge({ username: uniqueName("ghost") });
    expect(c.status).toBe(200);
    expect(Buffer.from(c.body.challenge, "base64")).toHaveLength(32);
    const res = await verify(
      c.body.challenge_id,
      ed25519Pair().sign(Buffer.from(c.body.challenge, "base64")),
    );
    expect([res.status, res.body.error.code]).toEqual([401, "invalid_challenge"]);
  });

  it("answers bad input with stable codes", async () => {
    expect((await challenge({})).body.error.code).toBe("invalid_request");
    expect((await challenge({ public_key: "short" })).status).toBe(400);
    expect((await verify("not-a-uuid", "sig")).status).toBe(400);
  });

  it("refuses an expired challenge", async () => {
    const short = await startTestServer(backend, { CHALLENGE_TTL: "1s" });
    try {
      const a = await keyAccount(short.api);
      const c = await short.api("POST", "/v1/auth/challenge", { body: { username: a.username } });
      short.clock.advance(1200);
      const res = await short.api("POST", "/v1/auth/verify", {
        body: {
          challenge_id: c.body.challenge_id,
          signature: a.pair.sign(Buffer.from(c.body.challenge, "base64")),
        },
      });
      expect([res.status, res.body.error.code]).toEqual([401, "invalid_challenge"]);
    } finally {
      await short.close();
    }
  });
});
