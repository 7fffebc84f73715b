import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures, randomId } from "./chat-fixtures.js";
import { backends } from "./helpers/backends.js";
import { type HubUser, hubUser } from "./helpers/hub-client.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

describe.each(backends())("chat messages on $name", (backend) => {
  let t: TestServer;
  let f: ReturnType<typeof fixtures>;
  let owner: HubUser;
  let admin: HubUser;
  let moderator: HubUser;
  let alice: HubUser;
  let bob: HubUser;
  let stranger: HubUser;
  let tenant: string;
  let network: string;

  beforeAll(async () => {
    t = await startTestServer(backend);
    f = fixtures(t.api);
    [owner, admin, moderator, alice, bob, stranger] = await Promise.all([
      hubUser(t.api),
      hubUser(t.api),
      hubUser(t.api),
      hubUser(t.api),
      hubUser(t.api),
      hubUser(t.api),
    ]);
    tenant = await f.community(owner);
    await f.member(tenant, admin, "admin", owner);
    await f.member(tenant, moderator, "moderator", owner);
    await f.member(tenant, alice, "member", owner);
    await f.member(tenant, bob, "member", owner);
    network = await f.network(tenant, owner);
    await f.joinNetwork(network, alice);
  });
  afterAll(async () => t?.close());

  const tenantPath = () => `/v1/tenants/${tenant}/messages`;
  const networkPath = () => `/v1/networks/${network}/messages`;
  const list = (path: string, user: HubUser, query = "") =>
    t.api("GET", `${path}${query}`, { token: user.token });

  it("stores a message before answering: a GET right after the 201 returns it, first", async () => {
    const content = "  hello, community!\nsecond line  ";
    const res = await f.post(tenantPath(), alice, content);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      tenant_id: tenant,
      network_id: null,
      user_id: alice.id,
      username: alice.username,
      content, // plain text, kept exactly as sent
      timestamp: expect.any(String),
      edited_at: null,
    });
    const read = await list(tenantPath(), bob);
    expect(read.status).toBe(200);
    expect(read.body.messages[0]).toEqual(res.body);
  });

  it("takes bodies of 1 to 4000 characters and refuses blank ones", async () => {
    const max = "x".repeat(4000);
    const ok = await f.post(tenantPath(), alice, max);
    expect(ok.status).toBe(201);
    expect(ok.body.content).toHaveLength(4000);

    for (const content of ["x".repeat(4001), "", "   ", "\n\t "]) {
      const bad = await f.post(tenantPath(), alice, content);
      expect(bad.status, JSON.stringify(content.slice(0, 10))).toBe(400);
      expect(bad.body.error.code).toBe("invalid_request");
    }
    const missing = await t.api("POST", tenantPath(), { token: alice.token, body: {} });
    expect(missing.status).toBe(400);
    // Nothing of the refused ones was stored.
    expect((await list(tenantPath(), alice, "?limit=1")).body.messages[0].id).toBe(ok.body.id);
  });

  it("pages newest first by cursor, without gaps or repeats", async () => {
    const channel = await f.community(owner);
    await f.join(channel, alice);
    const path = `/v1/tenants/${channel}/messages`;
    const posted: string[] = [];
    for (let i = 0; i < 7; i++) posted.push((await f.post(path, i % 2 ? owner : alice, `m${i}`)).body.id);

    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const res = await list(path, alice, `?limit=3${cursor ? `&before=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      sizes.push(res.body.messages.length);
      seen.push(...res.body.messages.map((m: { id: string }) => m.id));
      cursor = res.body.next_cursor;
    } while (cursor);
    expect(sizes).toEqual([3, 3, 1]);
    expect(seen).toEqual([...posted].reverse());
    expect((await list(path, alice, `?limit=3&before=${posted[1]}`)).body).toEqual({
      messages: [expect.objectContaining({ id: posted[0], content: "m0" })],
      next_cursor: null,
    });

    // A page of exactly the remaining messages has no cursor to a page that would be empty.
    const exact = await list(path, alice, "?limit=7");
    expect(exact.body.messages).toHaveLength(7);
    expect(exact.body.next_cursor).toBeNull();
    const all = await list(path, alice);
    expect(all.body.messages).toHaveLength(7); // default limit 50

    for (const q of ["?limit=0", "?limit=101", "?before=nope"]) {
      expect((await list(path, alice, q)).status, q).toBe(400);
    }
  });

  it("keeps community and network channels apart; a network's channel needs active membership", async () => {
    const inNetwork = await f.post(networkPath(), alice, "network only");
    expect(inNetwork.status).toBe(201);
    expect(inNetwork.body).toMatchObject({ tenant_id: tenant, network_id: network });

    const netList = await list(networkPath(), alice);
    expect(netList.body.messages.map((m: { id: string }) => m.id)).toEqual([inNetwork.body.id]);
    const communityIds = (await list(tenantPath(), alice, "?limit=100")).body.messages.map(
      (m: { id: string }) => m.id,
    );
    expect(communityIds).not.toContain(inNetwork.body.id);

    // bob is in the community but not in the network: the network channel is not his to see.
    for (const res of [await list(networkPath(), bob), await f.post(networkPath(), bob, "hi")]) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
    expect((await t.api("DELETE", `/v1/messages/${inNetwork.body.id}`, { token: bob.token })).status).toBe(
      404,
    );
    // An admin sees the network but is not in it: the community role does not open its channel.
    expect((await list(networkPath(), admin)).status).toBe(404);
    // The owner created the network, so is its first member.
    expect((await list(networkPath(), owner)).status).toBe(200);
  });

  it("answers 404 to outsiders on every route, exactly like a random id", async () => {
    const msg = (await f.post(tenantPath(), alice, "members only")).body;
    const random = randomId();
    const calls: [string, string, unknown?][] = [
      ["GET", tenantPath()],
      ["POST", tenantPath(), { content: "let me in" }],
      ["GET", networkPath()],
      ["POST", networkPath(), { content: "let me in" }],
      ["PATCH", `/v1/messages/${msg.id}`, { content: "mine now" }],
      ["DELETE", `/v1/messages/${msg.id}`],
      ["GET", `/v1/tenants/${random}/messages`],
      ["POST", `/v1/networks/${random}/messages`, { content: "x" }],
      ["PATCH", `/v1/messages/${random}`, { content: "x" }],
      ["DELETE", `/v1/messages/${random}`],
    ];
    for (const [method, path, body] of calls) {
      const res = await t.api(method, path, { token: stranger.token, ...(body ? { body } : {}) });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
    // Members get the same 404 for ids that do not exist.
    expect(
      (await t.api("PATCH", `/v1/messages/${random}`, { token: alice.token, body: { content: "x" } })).status,
    ).toBe(404);
    expect((await t.api("GET", tenantPath(), {})).status).toBe(401);
  });

  it("lets authors edit; others who can see the message get 403", async () => {
    const msg = (await f.post(tenantPath(), alice, "typo")).body;
    for (const who of [bob, moderator, admin, owner]) {
      const res = await t.api("PATCH", `/v1/messages/${msg.id}`, {
        token: who.token,
        body: { content: "hijack" },
      });
      expect(res.status, who.username).toBe(403);
      expect(res.body.error.code).toBe("forbidden");
    }
    const edited = await t.api("PATCH", `/v1/messages/${msg.id}`, {
      token: alice.token,
      body: { content: "fixed" },
    });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({
      id: msg.id,
      content: "fixed",
      timestamp: msg.timestamp,
      user_id: alice.id,
    });
    expect(edited.body.edited_at).toEqual(expect.any(String));
    const stored = (await list(tenantPath(), bob, "?limit=100")).body.messages.find(
      (m: { id: string }) => m.id === msg.id,
    );
    expect(stored).toEqual(edited.body);
    const blank = await t.api("PATCH", `/v1/messages/${msg.id}`, {
      token: alice.token,
      body: { content: " " },
    });
    expect(blank.status).toBe(400);
  });

  it("deletes: authors their own, moderators and above anyone's, members nobody else's", async () => {
    const byAlice = async () => (await f.post(tenantPath(), alice, "delete me")).body.id as string;
    const del = (id: string, who: HubUser) => t.api("DELETE", `/v1/messages/${id}`, { token: who.token });
    const ids = (await list(tenantPath(), owner, "?limit=100")).body.messages.map(
      (m: { id: string }) => m.id,
    );

    const first = await byAlice();
    const refused = await del(first, bob);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("forbidden");
    expect((await del(first, alice)).status).toBe(204);
    expect((await del(first, alice)).status).toBe(404);
    const after = (await list(tenantPath(), owner, "?limit=100")).body.messages.map(
      (m: { id: string }) => m.id,
    );
    expect(after).not.toContain(first);
    expect(after).toEqual(ids);

    for (const who of [moderator, admin, owner]) {
      const id = await byAlice();
      expect((await del(id, who)).status, who.username).toBe(204);
    }
    // A moderator's own message: moderators act on anyone's, including each other's.
    const modMsg = (await f.post(tenantPath(), moderator, "mod")).body.id;
    expect((await del(modMsg, bob)).status).toBe(403);
    expect((await del(modMsg, admin)).status).toBe(204);
    const edit = await t.api("PATCH", `/v1/messages/${modMsg}`, {
      token: moderator.token,
      body: { content: "x" },
    });
    expect(edit.status).toBe(404);
  });
});
