import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sqliteBackend } from "../../server/test/helpers/backends.js";
import {
  PASSWORD,
  register,
  startTestServer,
  type TestServer,
  uniqueName,
} from "../../server/test/helpers/server.js";
import { type Machine, machine, removeTempDirs } from "./helpers/cli.js";

/** A machine signed in as a new account. */
async function signedIn(t: TestServer, prefix: string): Promise<Machine & { username: string; id: string }> {
  const { user } = await register(t.api, { username: uniqueName(prefix) });
  const m = machine(t.url);
  await m.ok(["login", "--username", user.username, "--password-stdin"], { input: `${PASSWORD}\n` });
  return Object.assign(m, { username: user.username, id: user.id });
}

// Each CLI run is a process start (1-3 s, more on a loaded machine): bounds are generous.
describe("warren tenants, invites, join, members, networks", { timeout: 120_000 }, () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(sqliteBackend);
  });
  afterAll(async () => {
    await t?.close();
    removeTempDirs();
  });

  it("an admin builds a community; a member joins by invite; moderation works by name", {
    timeout: 300_000,
  }, async () => {
    const [alice, bob, carol] = await Promise.all([
      signedIn(t, "alice"),
      signedIn(t, "bob"),
      signedIn(t, "carol"),
    ]);
    const club = uniqueName("club");

    // Community and network, with --json parseable for scripts.
    const tenant = (await alice.ok(["tenants", "create", club, "--access", "invite_only", "--json"])).json();
    expect(tenant).toMatchObject({ name: club, role: "owner", access: "invite_only" });
    const network = (
      await alice.ok([
        "networks",
        "create",
        club,
        "--name",
        "lan",
        "--cidr",
        "10.20.0.0/24",
        "--join-policy",
        "invite",
        "--json",
      ])
    ).json();
    expect(network).toMatchObject({
      name: "lan",
      cidr: "10.20.0.0/24",
      tenant_id: tenant.id,
      my_status: "active",
    });

    const invite = (
      await alice.ok([
        "invites",
        "create",
        club,
        "--uses",
        "1",
        "--expires",
        "1d",
        "--network",
        "lan",
        "--json",
      ])
    ).json();
    expect(invite).toMatchObject({ max_uses: 1, network_id: network.id, role: "member" });

    // bob redeems it: the community and its network.
    const joined = (await bob.ok(["join", invite.code, "--json"])).json();
    expect(joined).toMatchObject({
      tenant: { id: tenant.id },
      role: "member",
      network: { id: network.id, status: "active" },
    });

    // Readable tables and JSON for the same lists.
    const [list, listJson, nets, members, invites] = await Promise.all([
      bob.ok(["tenants", "list"]),
      bob.ok(["tenants", "list", "--json"]),
      bob.ok(["networks", "list", club, "--json"]),
      alice.ok(["members", "list", club]),
      alice.ok(["invites", "list", club, "--json"]),
    ]);
    expect(list.stdout).toMatch(/^ID\s+NAME\s+ROLE\s+MEMBERS\s+ACCESS\s+VISIBILITY$/m);
    expect(list.stdout).toMatch(new RegExp(`${tenant.id}\\s+${club}\\s+member\\s+2`));
    expect(listJson.json().tenants.map((x: any) => x.id)).toEqual([tenant.id]);
    expect(nets.json().networks[0]).toMatchObject({ id: network.id, my_status: "active" });
    expect(members.stdout).toMatch(new RegExp(`${alice.username}\\s+${alice.id}\\s+owner`));
    expect(members.stdout).toMatch(new RegExp(`${bob.username}\\s+${bob.id}\\s+member`));
    expect(invites.json().invites[0]).toMatchObject({ id: invite.id, uses: 1 });

    // Errors carry the server's message and exit 1; roles change by username.
    const [again, denied, role, netMembers, peers] = await Promise.all([
      carol.run(["join", invite.code]), // used up
      bob.run(["networks", "create", club, "--name", "x", "--cidr", "10.30.0.0/24"]), // a member may not
      alice.ok(["members", "role", club, bob.username, "moderator", "--json"]),
      bob.ok(["networks", "members", `${club}/lan`, "--json"]),
      bob.ok(["networks", "peers", network.id, "--json"]),
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("(invalid_invite)");
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/^error: .+ \(forbidden\)$/m);
    expect(role.json()).toMatchObject({ user: { id: bob.id }, role: "moderator" });
    expect(
      netMembers
        .json()
        .members.map((m: any) => m.user.username)
        .sort(),
    ).toEqual([alice.username, bob.username].sort());
    expect(peers.json()).toEqual({ peers: [] });

    await alice.ok(["networks", "ban", "lan", bob.username, "--for", "2h", "--reason", "testing"]);
    const netBans = (await alice.ok(["networks", "bans", "lan", "--json"])).json();
    expect(netBans.bans).toHaveLength(1);
    expect(netBans.bans[0]).toMatchObject({ user_id: bob.id, reason: "testing" });
    expect(Date.parse(netBans.bans[0].until) - Date.now()).toBeGreaterThan(7_000_000);
    await alice.ok(["networks", "unban", "lan", bob.username]);
    await alice.ok(["networks", "approve", "lan", bob.username]);
    await alice.ok(["networks", "kick", "lan", bob.username]);

    await alice.ok(["members", "kick", club, bob.username]);
    const [bobsList, banned] = await Promise.all([
      bob.ok(["tenants", "list", "--json"]),
      alice.ok(["members", "ban", club, bob.id, "--reason", "spam", "--json"]),
    ]);
    expect(bobsList.json().tenants).toEqual([]);
    expect(banned.json()).toMatchObject({ user: { id: bob.id }, reason: "spam", until: null });
    const bans = await alice.ok(["members", "bans", club]);
    expect(bans.stdout).toMatch(new RegExp(`${bob.username}\\s+${bob.id}\\s+lifted by hand\\s+spam`));
    // Unban by username: bob is no longer a member, the ban list knows him.
    await alice.ok(["members", "unban", club, bob.username]);
    const [noBans, second] = await Promise.all([
      alice.ok(["members", "bans", club, "--json"]),
      alice.ok(["invites", "create", club, "--json"]),
    ]);
    expect(noBans.json()).toEqual({ bans: [] });
    // Revoke by code; the invite stops working.
    await alice.ok(["invites", "revoke", club, second.json().code]);
    expect((await carol.run(["join", second.json().code])).code).toBe(1);
  });

  it("password communities, discovery, settings, transfer, leave and delete", {
    timeout: 300_000,
  }, async () => {
    const [owner, guest] = await Promise.all([signedIn(t, "own"), signedIn(t, "gst")]);
    const name = uniqueName("open");
    const created = (
      await owner.ok([
        "tenants",
        "create",
        name,
        "--visibility",
        "public",
        "--access",
        "password",
        "--password",
        "letmein",
        "--json",
      ])
    ).json();

    const [found, wrong] = await Promise.all([
      guest.ok(["tenants", "list", "--discover", "--search", name, "--json"]),
      guest.run(["tenants", "join", name, "--password", "nope"]),
    ]);
    expect(found.json().tenants.map((x: any) => x.id)).toEqual([created.id]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("(invalid_password)");
    const joined = (await guest.ok(["tenants", "join", name, "--password", "letmein", "--json"])).json();
    expect(joined).toMatchObject({ id: created.id, role: "member" });

    // Bad option values are usage errors (exit 2) before anything is sent.
    const [updated, badRole, badDuration, nothing, blocked] = await Promise.all([
      owner.ok(["tenants", "update", name, "--description", "now described", "--json"]),
      owner.run(["members", "role", name, guest.username, "emperor"]),
      owner.run(["members", "ban", name, guest.username, "--for", "soon"]),
      owner.run(["tenants", "update", name]),
      owner.run(["tenants", "leave", name]), // the owner leaves only after handing over
    ]);
    expect(updated.json().description).toBe("now described");
    expect([badRole.code, badDuration.code, nothing.code]).toEqual([2, 2, 2]);
    expect(badDuration.stderr).toContain("--for");
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toContain("(owner_must_transfer)");
    const moved = (await owner.ok(["tenants", "transfer", name, guest.username, "--json"])).json();
    expect(moved.owner_id).toBe(guest.id);
    const [show] = await Promise.all([
      guest.ok(["tenants", "show", created.id]),
      owner.ok(["tenants", "leave", name]),
    ]);
    expect(show.stdout).toMatch(/description:\s+now described/);

    // Networks of the new owner: reservations, update, delete (with --yes; without a terminal it asks for it).
    const games = (
      await guest.ok(["networks", "create", name, "--name", "games", "--cidr", "10.40.0.0/24", "--json"])
    ).json();
    const reserved = (
      await guest.ok(["networks", "reserve", "games", "10.40.0.9", "--note", "printer", "--json"])
    ).json();
    expect(reserved).toMatchObject({ address: "10.40.0.9", note: "printer" });
    const [reservations, unconfirmed] = await Promise.all([
      guest.ok(["networks", "reservations", games.id]),
      guest.run(["networks", "delete", games.id]),
    ]);
    expect(reservations.stdout).toMatch(/10\.40\.0\.9\s+printer/);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain("--yes");
    const [, renamed] = await Promise.all([
      guest.ok(["networks", "unreserve", games.id, "10.40.0.9"]),
      guest.ok(["networks", "update", games.id, "--name", "arcade", "--json"]),
    ]);
    expect(renamed.json().name).toBe("arcade");
    await guest.ok(["networks", "delete", "arcade", "--yes"]);
    expect((await guest.ok(["networks", "list", name, "--json"])).json().networks).toEqual([]);
    await guest.ok(["tenants", "delete", name, "--yes"]);
    const gone = await guest.run(["tenants", "show", created.id, "--json"]);
    expect(gone.code).toBe(1);
    expect(JSON.parse(gone.stderr).error.code).toBe("not_found");
  });

  it("names that match more than one thing are refused with the candidates", async () => {
    const admin = await signedIn(t, "amb");
    const name = uniqueName("twin");
    const [a, b] = await Promise.all([
      admin.ok(["tenants", "create", name, "--json"]),
      admin.ok(["tenants", "create", name, "--json"]),
    ]);
    const r = await admin.run(["networks", "list", name]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`"${name}" names more than one community`);
    expect(r.stderr).toContain(a.json().id);
    expect(r.stderr).toContain(b.json().id);
    const missing = await admin.run(["members", "list", "no-such-community"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no community of yours named "no-such-community"');
  });
});
