import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "./chat-fixtures.js";
import { backends } from "./helpers/backends.js";
import { clientPool, hubUser } from "./helpers/hub-client.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

const WAIT = 8000;
const chatFrame = (id: string) => (f: any) => f.type?.startsWith("chat_message") && f.data?.id === id;

describe.each(backends())("live chat on $name", (backend) => {
  let t: TestServer;
  let f: ReturnType<typeof fixtures>;
  const pool = clientPool();

  beforeAll(async () => {
    t = await startTestServer(backend);
    f = fixtures(t.api);
  });
  afterEach(async () => pool.closeAll());
  afterAll(async () => t?.close());

  it("sends chat_message, _updated and _deleted to members' sockets and not to others'", async () => {
    const [owner, alice, outsider] = await Promise.all([hubUser(t.api), hubUser(t.api), hubUser(t.api)]);
    const tenant = await f.community(owner);
    await f.join(tenant, alice);
    const aliceWs = await pool.connect(t.url, alice);
    const outsiderWs = await pool.connect(t.url, outsider);

    const posted = (await f.post(`/v1/tenants/${tenant}/messages`, owner, "hello")).body;
    expect(await aliceWs.next(chatFrame(posted.id), WAIT)).toEqual({ type: "chat_message", data: posted });

    const edited = await t.api("PATCH", `/v1/messages/${posted.id}`, {
      token: owner.token,
      body: { content: "hi" },
    });
    expect(await aliceWs.next((x) => x.type === "chat_message_updated", WAIT)).toEqual({
      type: "chat_message_updated",
      data: edited.body,
    });
    expect((await t.api("DELETE", `/v1/messages/${posted.id}`, { token: owner.token })).status).toBe(204);
    expect(await aliceWs.next((x) => x.type === "chat_message_deleted", WAIT)).toEqual({
      type: "chat_message_deleted",
      data: { id: posted.id, tenant_id: tenant, network_id: null },
    });
    // alice heard all three, so the outsider had every chance to hear them too.
    expect(outsiderWs.all.filter((x) => x.type?.startsWith("chat_message"))).toEqual([]);
  });

  it("sends a network's chat to its active members only", async () => {
    const [owner, alice, bob] = await Promise.all([hubUser(t.api), hubUser(t.api), hubUser(t.api)]);
    const tenant = await f.community(owner);
    await f.join(tenant, alice);
    await f.join(tenant, bob);
    const network = await f.network(tenant, owner); // the creator is its first member
    const aliceWs = await pool.connect(t.url, alice);
    const bobWs = await pool.connect(t.url, bob);
    // alice joins the network with her socket already open: it must start hearing the channel.
    await f.joinNetwork(network, alice);

    const posted = (await f.post(`/v1/networks/${network}/messages`, owner, "lan party at 8")).body;
    expect(await aliceWs.next(chatFrame(posted.id), WAIT)).toEqual({ type: "chat_message", data: posted });
    const community = (await f.post(`/v1/tenants/${tenant}/messages`, owner, "everyone")).body;
    await bobWs.next(chatFrame(community.id), WAIT);
    expect(bobWs.all.filter((x) => x.data?.id === posted.id)).toEqual([]);
  });

  it("a kicked member sees nothing after leaving: 404 on read and write, no more frames", async () => {
    const [owner, alice, kicked] = await Promise.all([hubUser(t.api), hubUser(t.api), hubUser(t.api)]);
    const tenant = await f.community(owner);
    await f.join(tenant, alice);
    await f.join(tenant, kicked);
    const aliceWs = await pool.connect(t.url, alice);
    const kickedWs = await pool.connect(t.url, kicked);

    const before = (await f.post(`/v1/tenants/${tenant}/messages`, owner, "before")).body;
    await kickedWs.next(chatFrame(before.id), WAIT);
    await f.kick(tenant, kicked, owner);

    const path = `/v1/tenants/${tenant}/messages`;
    expect((await t.api("GET", path, { token: kicked.token })).status).toBe(404);
    expect((await f.post(path, kicked, "still here?")).status).toBe(404);
    expect((await t.api("DELETE", `/v1/messages/${before.id}`, { token: kicked.token })).status).toBe(404);

    const after = (await f.post(path, owner, "after")).body;
    await aliceWs.next(chatFrame(after.id), WAIT);
    // Give the kicked socket as long again as alice needed, then check it heard nothing.
    expect(await kickedWs.collect((x) => x.type?.startsWith("chat_message"), 300)).toEqual([]);
    expect(kickedWs.all.some((x) => x.data?.id === after.id)).toBe(false);
  });
});
