import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HubUser, hubUser } from "../helpers/hub-client.js";
import { ed25519Pair } from "../helpers/keys.js";
import { type ApiResponse, PASSWORD, uniqueName } from "../helpers/server.js";
import { hubPool, ok, WAIT } from "./clients.js";
import { type Cluster, type Instance, skipCluster, startCluster } from "./harness.js";

/**
 * Limits and one-time secrets hold for the cluster, not per instance: a user's
 * frame bucket (MESSAGE_RATE_LIMIT / MESSAGE_BURST_LIMIT) is shared by their sockets on
 * every instance, a key sign-in challenge works once wherever it is presented, and
 * failed sign-ins count together.
 */
const skip = skipCluster("cluster suite: shared rate limit, single-use challenge");

const RATE = 1;
const BURST = 12;
const MAX_FAILURES = 3;

describe.skipIf(skip)("three instances: shared limits and single-use challenges", () => {
  let cluster: Cluster;
  let A: Instance;
  let B: Instance;
  let C: Instance;
  const pool = hubPool();

  beforeAll(async () => {
    cluster = await startCluster({
      env: {
        MESSAGE_RATE_LIMIT: String(RATE),
        MESSAGE_BURST_LIMIT: String(BURST),
        LOGIN_MAX_FAILURES: String(MAX_FAILURES),
      },
    });
    [A, B, C] = cluster.instances as [Instance, Instance, Instance];
  }, 150_000);

  afterAll(async () => {
    await pool.closeAll();
    await cluster?.close();
  }, 60_000);

  it("one user's sockets on A and B share one bucket: only the burst gets through in total", async () => {
    const [u, other] = await Promise.all([hubUser(A.api), hubUser(C.api)]);
    // Each connect spends one token on its first ping; wait until the bucket is full again.
    const onA = await pool.connect(A, u, "ua");
    const onB = await pool.connect(B, u, "ub");
    expect(onA.welcome.limits).toMatchObject({ message_rate_limit: RATE, message_burst_limit: BURST });
    await new Promise((r) => setTimeout(r, (2 / RATE) * 1000 + 500));

    const perSocket = BURST;
    const started = Date.now();
    const replies: Promise<any>[] = [];
    for (let i = 0; i < perSocket; i++) {
      for (const s of [onA, onB]) replies.push(s.request({ type: "ping" }, WAIT));
    }
    const answers = await Promise.all(replies);
    const seconds = (Date.now() - started) / 1000;
    const passed = answers.filter((f) => f.type === "pong").length;
    const limited = answers.filter((f) => f.type === "error" && f.code === "rate_limited");
    expect(passed + limited.length, JSON.stringify(answers.filter((f) => f.type !== "pong"))).toBe(
      2 * perSocket,
    );
    // Per-instance buckets would let 2 × BURST through; one shared bucket lets BURST
    // through, plus what refilled while the frames were on their way.
    expect(passed).toBeGreaterThanOrEqual(BURST);
    expect(passed).toBeLessThanOrEqual(BURST + Math.ceil(seconds * RATE) + 1);
    for (const e of limited) expect(e.retry_after_ms).toBeGreaterThan(0);

    // the bucket is the user's: another user on C is not held back
    const o = await pool.connect(C, other, "o1");
    for (let i = 0; i < 3; i++) expect((await o.request({ type: "ping" }, WAIT)).type).toBe("pong");
    await Promise.all([pool.close(onA), pool.close(onB), pool.close(o)]);
  });

  const challenge = (inst: Instance, username: string) =>
    inst.api("POST", "/v1/auth/challenge", { body: { username } });
  const verify = (inst: Instance, body: Record<string, unknown>) =>
    inst.api("POST", "/v1/auth/verify", { body });

  it("a challenge issued by A verifies once on B; again on C or A it is refused", async () => {
    const key = ed25519Pair();
    const username = uniqueName("key");
    ok(await A.api("POST", "/v1/auth/register", { body: { username, public_key: key.publicKey } }), 201);
    const ch = ok(await challenge(A, username), 200);
    const body = { challenge_id: ch.challenge_id, signature: key.sign(Buffer.from(ch.challenge, "base64")) };

    const first = ok(await verify(B, body), 200);
    expect(first.user.username).toBe(username);
    const me = await C.api("GET", "/v1/auth/me", { token: first.tokens.access_token });
    expect(me.status).toBe(200);
    for (const inst of [C, A, B]) {
      const again = await verify(inst, body);
      expect(again.status, JSON.stringify(again.body)).toBe(401);
      expect(again.body.error.code).toBe("invalid_challenge");
    }

    // presented on all three at once: exactly one wins
    const ch2 = ok(await challenge(C, username), 200);
    const race = {
      challenge_id: ch2.challenge_id,
      signature: key.sign(Buffer.from(ch2.challenge, "base64")),
    };
    const answers: ApiResponse[] = await Promise.all([A, B, C, A, B, C].map((inst) => verify(inst, race)));
    expect(answers.map((r) => r.status).sort()).toEqual([200, 401, 401, 401, 401, 401]);
    for (const r of answers.filter((x) => x.status === 401))
      expect(r.body.error.code).toBe("invalid_challenge");
  });

  it("failed sign-ins on A, B and C count together", async () => {
    const w: HubUser = await hubUser(B.api);
    const insts = [A, B, C];
    for (let i = 0; i < MAX_FAILURES; i++) {
      const res = await (insts[i % 3] as Instance).api("POST", "/v1/auth/login", {
        body: { username: w.username, password: "not the password at all" },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(401);
    }
    // right password, on an instance that saw only one failure of its own
    const res = await A.api("POST", "/v1/auth/login", { body: { username: w.username, password: PASSWORD } });
    expect(res.status, JSON.stringify(res.body)).toBe(429);
    expect(res.body.error.code).toBe("rate_limited");
  });
});
