import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "./helpers/backends.js";
import { startTestServer, type TestServer } from "./helpers/server.js";
import { networkFixtures, RANDOM_ID } from "./networks-fixtures.js";

/** GET /v1/networks/:id/peers and GET /v1/peers/:id/config. */
describe.each(backends())("peers: list and WireGuard config ($name)", (backend) => {
  let t: TestServer;
  let f: ReturnType<typeof networkFixtures>;
  let cast: Awaited<ReturnType<ReturnType<typeof networkFixtures>["cast"]>>;
  let subnet = 0;

  /** A /24 network of the cast's community: owner's, member's and other's devices in it. */
  const populated = async (body: Record<string, unknown> = {}) => {
    const base = `10.${60 + ++subnet}.0`;
    const id = await f.network(cast.tenant, cast.owner, { cidr: `${base}.0/24`, ...body });
    await f.joined(id, cast.member);
    await f.joined(id, cast.other);
    const dOwner = await f.device(cast.owner, "gateway");
    const dMember = await f.device(cast.member, "laptop");
    const dOther = await f.device(cast.other, "phone");
    const pOwner = await f.peer(id, cast.owner, dOwner.id);
    const pMember = await f.peer(id, cast.member, dMember.id);
    const pOther = await f.peer(id, cast.other, dOther.id);
    return { id, base, dOwner, dMember, dOther, pOwner, pMember, pOther };
  };

  beforeAll(async () => {
    t = await startTestServer(backend);
    f = networkFixtures(t.api);
    cast = await f.cast();
  }, 60_000);
  afterAll(() => t.close());

  it("lists the network's peers in address order for its members and admins", async () => {
    const n = await populated();
    const res = await t.api("GET", `/v1/networks/${n.id}/peers`, { token: cast.member.token });
    expect(res.status).toBe(200);
    expect(res.body.peers).toEqual([
      {
        id: n.pOwner.id,
        network_id: n.id,
        device_id: n.dOwner.id,
        user_id: cast.owner.id,
        name: "gateway",
        address: `${n.base}.2`,
        public_key: n.dOwner.public_key,
        endpoint: null,
        online: false,
        last_seen: null,
      },
      expect.objectContaining({ id: n.pMember.id, address: `${n.base}.3`, name: "laptop" }),
      expect.objectContaining({ id: n.pOther.id, address: `${n.base}.4`, name: "phone" }),
    ]);
    // An admin of the community who is not in the network still sees them.
    const admin = await t.api("GET", `/v1/networks/${n.id}/peers`, { token: cast.admin.token });
    expect(admin.status).toBe(200);
    expect(admin.body.peers).toHaveLength(3);
  });

  it("hides peers from community members outside the network, and from strangers, as 404", async () => {
    const n = await populated();
    const stranger = await f.user();
    for (const [who, token] of [
      ["moderator outside the network", cast.moderator.token],
      ["stranger", stranger.token],
    ] as const) {
      for (const id of [n.id, RANDOM_ID]) {
        const res = await t.api("GET", `/v1/networks/${id}/peers`, { token });
        expect(res.status, who).toBe(404);
        expect(res.body.error.code).toBe("not_found");
      }
    }
  });

  it("gives the owner of a device its wg-quick config, every line as wg-quick reads it", async () => {
    const n = await populated();
    f.ok(
      await t.api("PATCH", `/v1/peers/${n.pOwner.id}/endpoint`, {
        token: cast.owner.token,
        body: { endpoint: "203.0.113.7:51820" },
      }),
      200,
    );
    const res = await t.api("GET", `/v1/peers/${n.pMember.id}/config`, { token: cast.member.token });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    const networkName = f.ok(
      await t.api("GET", `/v1/networks/${n.id}`, { token: cast.member.token }),
      200,
    ).name;
    expect(res.body).toBe(
      [
        "[Interface]",
        `# Device: laptop  Network: ${networkName} (${n.base}.0/24)`,
        "PrivateKey = <fill in your private key>",
        `Address = ${n.base}.3/24`,
        "",
        "[Peer]",
        "# gateway",
        `PublicKey = ${n.dOwner.public_key}`,
        `AllowedIPs = ${n.base}.2/32`,
        "Endpoint = 203.0.113.7:51820",
        "PersistentKeepalive = 25",
        "",
        "[Peer]",
        "# phone",
        `PublicKey = ${n.dOther.public_key}`,
        `AllowedIPs = ${n.base}.4/32`,
        "PersistentKeepalive = 25",
        "",
      ].join("\n"),
    );
    // No private key of any kind appears: the server has none.
    expect(res.body).not.toMatch(/PrivateKey = [A-Za-z0-9+/]{43}=/);
  });

  it("gives the same config as JSON with ?format=json", async () => {
    const n = await populated();
    const res = await t.api("GET", `/v1/peers/${n.pOther.id}/config?format=json`, {
      token: cast.other.token,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.body.interface).toEqual({
      device_id: n.dOther.id,
      device_name: "phone",
      network_id: n.id,
      network_name: expect.any(String),
      cidr: `${n.base}.0/24`,
      address: `${n.base}.4/24`,
      private_key: null,
    });
    expect(res.body.peers).toEqual([
      {
        peer_id: n.pOwner.id,
        name: "gateway",
        public_key: n.dOwner.public_key,
        allowed_ips: [`${n.base}.2/32`],
        endpoint: null,
        persistent_keepalive: 25,
      },
      {
        peer_id: n.pMember.id,
        name: "laptop",
        public_key: n.dMember.public_key,
        allowed_ips: [`${n.base}.3/32`],
        endpoint: null,
        persistent_keepalive: 25,
      },
    ]);
    const bad = await t.api("GET", `/v1/peers/${n.pOther.id}/config?format=yaml`, {
      token: cast.other.token,
    });
    expect(bad.status).toBe(400);
  });

  it("lets only the device's owner read its config: everyone else, the owner of the community too, gets 404", async () => {
    const n = await populated();
    const stranger = await f.user();
    for (const u of [cast.owner, cast.admin, cast.other, stranger]) {
      for (const format of ["", "?format=json"]) {
        const res = await t.api("GET", `/v1/peers/${n.pMember.id}/config${format}`, { token: u.token });
        expect(res.status).toBe(404);
        expect(res.body.error).toEqual({ code: "not_found", message: "No such peer" });
      }
    }
    const random = await t.api("GET", `/v1/peers/${RANDOM_ID}/config`, { token: cast.member.token });
    expect(random.status).toBe(404);
    expect(random.body.error).toEqual({ code: "not_found", message: "No such peer" });
  });
});
