import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "../../../apps/server/test/helpers/backends.js";
import { x25519Public } from "../../../apps/server/test/helpers/keys.js";
import { startTestServer, type TestServer } from "../../../apps/server/test/helpers/server.js";
import { createClient, WarrenError } from "../src/index.js";
import { PASSWORD, signUp, uniqueName } from "./fixtures.js";

/**
 * The SDK's REST resources against the real routes, on every storage backend: each
 * call's path, body and answer must match what the server takes and gives.
 */
const RANDOM_ID = "0190a4c2-1111-7000-8000-000000000000";

const failure = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (err: unknown) => {
      expect(err).toBeInstanceOf(WarrenError);
      return err as WarrenError;
    },
  );

for (const backend of backends()) {
  describe(`sdk resources (${backend.name})`, () => {
    let t: TestServer;
    beforeAll(async () => {
      t = await startTestServer(backend);
    });
    afterAll(async () => t?.close());

    it("communities: create, list, discover, update, members, roles, bans, kick, transfer, leave, remove", async () => {
      const [alice, bob, carol] = await Promise.all([signUp(t.url), signUp(t.url), signUp(t.url)]);
      const name = uniqueName("club");
      const tenant = await alice.client.tenants.create({ name, access: "open", visibility: "public" });
      expect([tenant.name, tenant.role, tenant.member_count]).toEqual([name, "owner", 1]);

      expect((await alice.client.tenants.list()).tenants.map((x) => x.id)).toContain(tenant.id);
      const found = await bob.client.tenants.list({ discover: true, q: name, limit: 5 });
      expect(found.tenants.map((x) => x.id)).toEqual([tenant.id]);
      expect((await bob.client.tenants.get(tenant.id)).role).toBeNull();

      const updated = await alice.client.tenants.update(tenant.id, { description: "games on fridays" });
      expect(updated.description).toBe("games on fridays");

      expect((await bob.client.tenants.join(tenant.id)).role).toBe("member");
      const members = await alice.client.tenants.members(tenant.id);
      expect(members.members.map((m) => m.user.id)).toEqual([alice.user.id, bob.user.id]);
      expect(members.next_cursor).toBeNull();
      const promoted = await alice.client.tenants.setRole(tenant.id, bob.user.id, "moderator");
      expect([promoted.user.id, promoted.role]).toEqual([bob.user.id, "moderator"]);

      const ban = await alice.client.tenants.ban(tenant.id, { user_id: carol.user.id, reason: "spam" });
      expect([ban.user.id, ban.reason, ban.until]).toEqual([carol.user.id, "spam", null]);
      expect((await alice.client.tenants.bans(tenant.id)).bans.map((b) => b.user.id)).toEqual([
        carol.user.id,
      ]);
      expect((await failure(carol.client.tenants.join(tenant.id))).code).toBe("banned");
      await alice.client.tenants.unban(tenant.id, carol.user.id);
      expect((await alice.client.tenants.bans(tenant.id)).bans).toEqual([]);

      await carol.client.tenants.join(tenant.id);
      await alice.client.tenants.kick(tenant.id, carol.user.id);
      expect((await carol.client.tenants.get(tenant.id)).role).toBeNull();

      expect((await failure(alice.client.tenants.leave(tenant.id))).code).toBe("owner_must_transfer");
      const handed = await alice.client.tenants.transfer(tenant.id, bob.user.id);
      expect([handed.owner_id, handed.role]).toEqual([bob.user.id, "admin"]);
      await alice.client.tenants.leave(tenant.id);
      expect((await alice.client.tenants.list()).tenants.map((x) => x.id)).not.toContain(tenant.id);

      await bob.client.tenants.remove(tenant.id);
      expect((await failure(bob.client.tenants.get(tenant.id))).code).toBe("not_found");
    });

    it("invites: create, list, accept (with a network), revoke", async () => {
      const [alice, bob, carol] = await Promise.all([signUp(t.url), signUp(t.url), signUp(t.url)]);
      const tenant = await alice.client.tenants.create({ name: uniqueName("priv") });
      const network = await alice.client.networks.create(tenant.id, { name: "lan", cidr: "10.60.0.0/24" });
      const invite = await alice.client.invites.create(tenant.id, { max_uses: 1, network_id: network.id });
      expect([invite.tenant_id, invite.network_id, invite.role, invite.uses]).toEqual([
        tenant.id,
        network.id,
        "member",
        0,
      ]);
      const accepted = await bob.client.invites.accept(invite.code);
      expect([accepted.tenant.id, accepted.tenant.role, accepted.network_id, accepted.role]).toEqual([
        tenant.id,
        "member",
        network.id,
        "member",
      ]);
      expect((await bob.client.networks.get(network.id)).my_status).toBe("active");
      // Used up: the one code answers like an unknown one.
      expect((await failure(carol.client.invites.accept(invite.code))).code).toBe("invalid_invite");

      const second = await alice.client.invites.create(tenant.id);
      await alice.client.invites.revoke(tenant.id, second.id);
      const listed = await alice.client.invites.list(tenant.id);
      expect(listed.invites.map((i) => [i.id, i.revoked_at === null])).toEqual([
        [second.id, false],
        [invite.id, true],
      ]);
      expect((await failure(carol.client.invites.accept(second.code))).status).toBe(404);
    });

    it("networks: create, list, update, join by approval, approve, deny, kick, ban, reservations, leave, remove", async () => {
      const [alice, bob, carol] = await Promise.all([signUp(t.url), signUp(t.url), signUp(t.url)]);
      const tenant = await alice.client.tenants.create({
        name: uniqueName("net"),
        access: "open",
        visibility: "public",
      });
      await Promise.all([bob.client.tenants.join(tenant.id), carol.client.tenants.join(tenant.id)]);
      const network = await alice.client.networks.create(tenant.id, {
        name: "lan-party",
        cidr: "10.61.0.9/24",
        visibility: "public",
        join_policy: "approval",
      });
      expect([network.cidr, network.my_status, network.join_policy]).toEqual([
        "10.61.0.0/24",
        "active",
        "approval",
      ]);
      expect((await bob.client.networks.list(tenant.id)).networks.map((n) => n.id)).toEqual([network.id]);
      expect((await alice.client.networks.update(network.id, { description: "fridays" })).description).toBe(
        "fridays",
      );

      expect(await bob.client.networks.join(network.id)).toEqual({
        network_id: network.id,
        status: "pending",
      });
      const pending = (await alice.client.networks.members(network.id)).members;
      expect(pending.map((m) => [m.user.id, m.status])).toEqual([
        [alice.user.id, "active"],
        [bob.user.id, "pending"],
      ]);
      expect((await alice.client.networks.approve(network.id, bob.user.id)).status).toBe("active");
      await carol.client.networks.join(network.id);
      await alice.client.networks.deny(network.id, carol.user.id);
      await carol.client.networks.join(network.id);
      await carol.client.networks.leave(network.id);
      expect((await carol.client.networks.get(network.id)).my_status).toBeNull();

      await alice.client.networks.kick(network.id, bob.user.id);
      const ban = await alice.client.networks.ban(network.id, { user_id: bob.user.id, duration_seconds: 60 });
      expect([ban.network_id, ban.user_id, ban.until === null]).toEqual([network.id, bob.user.id, false]);
      expect((await alice.client.networks.bans(network.id)).bans.map((b) => b.user_id)).toEqual([
        bob.user.id,
      ]);
      expect((await failure(bob.client.networks.join(network.id))).code).toBe("banned");
      await alice.client.networks.unban(network.id, bob.user.id);
      expect((await alice.client.networks.bans(network.id)).bans).toEqual([]);

      const reserved = await alice.client.networks.reserve(network.id, {
        address: "10.61.0.50",
        note: "printer",
      });
      expect([reserved.address, reserved.note]).toEqual(["10.61.0.50", "printer"]);
      expect(
        (await alice.client.networks.reservations(network.id)).reservations.map((r) => r.address),
      ).toEqual(["10.61.0.50"]);
      await alice.client.networks.unreserve(network.id, "10.61.0.50");
      expect((await alice.client.networks.reservations(network.id)).reservations).toEqual([]);

      await alice.client.networks.remove(network.id);
      expect((await failure(alice.client.networks.get(network.id))).code).toBe("not_found");
    });

    it("devices and peers: addPeer, peers, endpoint, address, config as text and JSON, rotateKey, remove", async () => {
      const [alice, bob] = await Promise.all([signUp(t.url), signUp(t.url)]);
      const tenant = await alice.client.tenants.create({
        name: uniqueName("wg"),
        access: "open",
        visibility: "public",
      });
      await bob.client.tenants.join(tenant.id);
      const network = await alice.client.networks.create(tenant.id, {
        name: "wg",
        cidr: "10.62.0.0/24",
        visibility: "public",
        join_policy: "open",
      });
      await bob.client.networks.join(network.id);

      const laptop = await alice.client.devices.create({
        name: "laptop",
        platform: "linux",
        public_key: x25519Public(),
      });
      const phone = await bob.client.devices.create({
        name: "phone",
        platform: "android",
        public_key: x25519Public(),
      });
      expect((await alice.client.devices.list()).devices.map((d) => d.id)).toEqual([laptop.id]);
      expect((await alice.client.devices.update(laptop.id, { name: "laptop2" })).name).toBe("laptop2");

      const mine = await alice.client.networks.addPeer(network.id, laptop.id);
      const theirs = await bob.client.networks.addPeer(network.id, phone.id);
      expect([mine.address, mine.device_id, theirs.address]).toEqual(["10.62.0.2", laptop.id, "10.62.0.3"]);
      expect((await alice.client.devices.get(laptop.id)).networks).toEqual([
        { network_id: network.id, peer_id: mine.id, address: "10.62.0.2" },
      ]);
      expect((await alice.client.networks.peers(network.id)).peers.map((p) => p.id)).toEqual([
        mine.id,
        theirs.id,
      ]);

      const reported = await bob.client.peers.setEndpoint(theirs.id, "203.0.113.7:51820");
      expect(reported.endpoint).toBe("203.0.113.7:51820");
      expect((await alice.client.peers.setAddress(theirs.id, { address: "10.62.0.40" })).address).toBe(
        "10.62.0.40",
      );

      const text = await alice.client.peers.config(mine.id);
      expect(typeof text).toBe("string");
      expect(text).toContain("[Interface]");
      expect(text).toContain("PrivateKey = <fill in your private key>");
      expect(text).toContain("Address = 10.62.0.2/24");
      expect(text).toContain(`PublicKey = ${phone.public_key}`);
      expect(text).toContain("AllowedIPs = 10.62.0.40/32");
      expect(text).toContain("Endpoint = 203.0.113.7:51820");
      const json = await alice.client.peers.configJson(mine.id);
      expect(json.interface).toMatchObject({
        device_id: laptop.id,
        address: "10.62.0.2/24",
        private_key: null,
      });
      expect(json.peers).toEqual([
        {
          peer_id: theirs.id,
          name: "phone",
          public_key: phone.public_key,
          allowed_ips: ["10.62.0.40/32"],
          endpoint: "203.0.113.7:51820",
          persistent_keepalive: 25,
        },
      ]);

      const newKey = x25519Public();
      expect((await alice.client.devices.rotateKey(laptop.id, newKey)).public_key).toBe(newKey);
      expect((await bob.client.networks.peers(network.id)).peers[0]?.public_key).toBe(newKey);

      await bob.client.peers.remove(theirs.id);
      expect((await alice.client.networks.peers(network.id)).peers.map((p) => p.id)).toEqual([mine.id]);
      await alice.client.devices.remove(laptop.id);
      expect((await alice.client.networks.peers(network.id)).peers).toEqual([]);
      expect((await failure(alice.client.devices.get(laptop.id))).code).toBe("not_found");
    });

    it("chat: send, list, edit and remove in community and network channels", async () => {
      const alice = await signUp(t.url);
      const tenant = await alice.client.tenants.create({ name: uniqueName("chat") });
      const network = await alice.client.networks.create(tenant.id, { name: "chat", cidr: "10.63.0.0/24" });
      const first = await alice.client.messages.send("tenant", tenant.id, "hi");
      const second = await alice.client.messages.send("tenant", tenant.id, "there");
      const page = await alice.client.messages.list("tenant", tenant.id, { limit: 1 });
      expect(page.messages.map((m) => m.id)).toEqual([second.id]);
      const older = await alice.client.messages.list("tenant", tenant.id, { before: page.next_cursor ?? "" });
      expect(older.messages.map((m) => m.content)).toEqual(["hi"]);
      expect((await alice.client.messages.edit(first.id, "hello")).edited_at).not.toBeNull();
      await alice.client.messages.remove(second.id);
      expect((await alice.client.messages.list("tenant", tenant.id)).messages.map((m) => m.content)).toEqual([
        "hello",
      ]);
      const inNetwork = await alice.client.messages.send("network", network.id, "lan");
      expect(inNetwork.network_id).toBe(network.id);
      expect((await alice.client.messages.list("network", network.id)).messages).toHaveLength(1);
    });

    it("me: exports my data and deletes my account, dropping the tokens", async () => {
      const { client, user } = await signUp(t.url);
      const data = await client.me.export();
      expect([data.format, data.profile.id, data.profile.has_password]).toEqual([
        "warren-export-1",
        user.id,
        true,
      ]);
      expect((await failure(client.me.remove({ password: "wrong password!" }))).code).toBe(
        "invalid_password",
      );
      await client.me.remove({ password: PASSWORD });
      expect(client.tokens).toBeUndefined();
      const gone = await failure(
        createClient({ baseUrl: t.url }).auth.login({ username: user.username, password: PASSWORD }),
      );
      expect([gone.code, gone.status]).toEqual(["invalid_credentials", 401]);
    });

    it("errors are WarrenError with the server's code, status and details; path params are encoded", async () => {
      const { client } = await signUp(t.url);
      const missing = await failure(client.tenants.get(RANDOM_ID));
      expect([missing.code, missing.status]).toEqual(["not_found", 404]);
      // Encoded, "a/b" stays one path parameter and fails its pattern instead of finding another route.
      const odd = await failure(client.networks.get("a/b"));
      expect([odd.code, odd.status]).toEqual(["invalid_request", 400]);
      const badKey = await failure(
        client.devices.create({ name: "x", platform: "linux", public_key: "nope" }),
      );
      expect([badKey.code, badKey.status]).toEqual(["invalid_public_key", 400]);
      const tenant = await client.tenants.create({ name: uniqueName("err") });
      const first = await client.networks.create(tenant.id, { name: "a", cidr: "10.64.0.0/16" });
      const overlap = await failure(client.networks.create(tenant.id, { name: "b", cidr: "10.64.1.0/24" }));
      expect([overlap.code, overlap.status]).toEqual(["cidr_overlap", 409]);
      expect(overlap.details).toMatchObject({ network_id: first.id, cidr: "10.64.0.0/16" });
      const again = await failure(client.networks.join(first.id));
      expect(again.code).toBe("already_member");
      const anonymous = await failure(createClient({ baseUrl: t.url }).devices.list());
      expect([anonymous.code, anonymous.status]).toEqual(["unauthorized", 401]);
    });
  });
}
