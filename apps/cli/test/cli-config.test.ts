import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sqliteBackend } from "../../server/test/helpers/backends.js";
import {
  PASSWORD,
  register,
  startTestServer,
  type TestServer,
  uniqueName,
} from "../../server/test/helpers/server.js";
import { generateWireGuardKeys, wireGuardPublicKey } from "../src/wg/keys.js";
import { type Machine, machine, removeTempDirs, tempDir, wgPubkey } from "./helpers/cli.js";

type Signed = Machine & { username: string; id: string };

async function signedIn(t: TestServer, prefix: string): Promise<Signed> {
  const { user } = await register(t.api, { username: uniqueName(prefix) });
  const m = machine(t.url);
  await m.ok(["login", "--username", user.username, "--password-stdin"], { input: `${PASSWORD}\n` });
  return Object.assign(m, { username: user.username, id: user.id });
}

const devicesFile = (m: Machine) => path.join(m.configDir, "devices.json");
const localDevices = (m: Machine): any[] =>
  Object.values(JSON.parse(readFileSync(devicesFile(m), "utf8")).devices);
const tokenOf = (m: Machine): string =>
  JSON.parse(readFileSync(path.join(m.configDir, "credentials.json"), "utf8")).tokens.access_token;
const privateKeyIn = (conf: string) => /^PrivateKey = (\S+)$/m.exec(conf)?.[1] as string;

/** Every byte the server stored (SQLite file, WAL, keys): a private key must be in none of it. */
function serverBytes(t: TestServer): string {
  const dir = t.database.dataDir;
  return readdirSync(dir)
    .map((f) => readFileSync(path.join(dir, f)).toString("latin1"))
    .join("\n");
}

describe("warren config and devices", { timeout: 120_000 }, () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(sqliteBackend);
  });
  afterAll(async () => {
    await t?.close();
    removeTempDirs();
  });

  it("prints a wg-quick config with this device's own private key; only the public key reaches the server", {
    timeout: 300_000,
  }, async () => {
    const [alice, bob] = await Promise.all([signedIn(t, "wga"), signedIn(t, "wgb")]);
    const club = uniqueName("wg");
    await alice.ok(["tenants", "create", club]);
    await alice.ok(["networks", "create", club, "--name", "lan", "--cidr", "10.60.0.0/24"]);
    const code = (await alice.ok(["invites", "create", club, "--network", "lan", "--json"])).json().code;
    await bob.ok(["join", code]);

    // alice first (the network's first device), then bob to a file.
    const a = await alice.ok(["config", "lan", "--name", "alice-box"]);
    expect(a.stderr).toContain("adding alice-box to lan");
    const confFile = path.join(tempDir(), "wg0.conf");
    const b = await bob.ok(["config", `${club}/lan`, "--name", "bob-box", "--output", confFile]);
    expect(b.stdout).toBe("");
    expect(statSync(confFile).mode & 0o777).toBe(0o600);
    const bobConf = readFileSync(confFile, "utf8");

    const alicePrivate = privateKeyIn(a.stdout);
    const bobPrivate = privateKeyIn(bobConf);
    const [aliceLocal] = localDevices(alice);
    const [bobLocal] = localDevices(bob);
    expect(aliceLocal.private_key).toBe(alicePrivate);
    expect(bobLocal.private_key).toBe(bobPrivate);
    expect(statSync(devicesFile(alice)).mode & 0o777).toBe(0o600);

    // The server's record holds the matching public key and nothing private.
    const record = await t.api("GET", `/v1/devices/${aliceLocal.device_id}`, { token: tokenOf(alice) });
    expect(record.body.public_key).toBe(wireGuardPublicKey(alicePrivate));
    const fromWg = wgPubkey(alicePrivate);
    if (fromWg !== undefined) expect(record.body.public_key).toBe(fromWg);
    expect(JSON.stringify(record.body)).not.toContain(alicePrivate);
    expect(record.body).toMatchObject({ name: "alice-box", platform: "linux" });
    const stored = serverBytes(t);
    expect(stored).toContain(record.body.public_key);
    expect(stored).not.toContain(alicePrivate);
    expect(stored).not.toContain(bobPrivate);

    // Each config lists the other device as its peer.
    expect(a.stdout).toMatch(/^Address = 10\.60\.0\.2\/24$/m);
    expect(bobConf).toMatch(/^Address = 10\.60\.0\.3\/24$/m);
    expect(bobConf).toContain(`PublicKey = ${record.body.public_key}`);
    const json = (await alice.ok(["config", "lan", "--json"])).json();
    expect(json.interface).toMatchObject({ private_key: alicePrivate, address: "10.60.0.2/24" });
    expect(json.peers.map((p: any) => p.public_key)).toEqual([wireGuardPublicKey(bobPrivate)]);

    const [peers, devices, whoami] = await Promise.all([
      bob.ok(["networks", "peers", "lan"]),
      alice.ok(["devices", "list", "--json"]),
      alice.ok(["whoami", "--json"]),
    ]);
    expect(peers.stdout).toMatch(/alice-box\s+10\.60\.0\.2\s+no/);
    expect(peers.stdout).toMatch(/bob-box\s+10\.60\.0\.3\s+no/);
    expect(devices.json().devices).toHaveLength(1);
    expect(devices.json().devices[0].networks).toHaveLength(1);
    expect(whoami.json().device).toMatchObject({ id: aliceLocal.device_id, name: "alice-box" });
  });

  it("rotates the key here, and settles a rotation a crash cut short", { timeout: 300_000 }, async () => {
    const owner = await signedIn(t, "rot");
    const club = uniqueName("rot");
    await owner.ok(["tenants", "create", club]);
    await owner.ok(["networks", "create", club, "--name", "lan", "--cidr", "10.70.0.0/24"]);
    await owner.ok(["devices", "register", "--name", "box"]);
    const [first] = localDevices(owner);
    const read = async () =>
      (await t.api("GET", `/v1/devices/${first.device_id}`, { token: tokenOf(owner) })).body
        .public_key as string;

    const rotated = (await owner.ok(["devices", "rotate-key", "--json"])).json();
    const [afterRotate] = localDevices(owner);
    expect(rotated.public_key).not.toBe(first.public_key);
    expect(afterRotate.public_key).toBe(rotated.public_key);
    expect(wireGuardPublicKey(afterRotate.private_key)).toBe(rotated.public_key);
    expect(afterRotate.next_private_key).toBeUndefined();
    expect(await read()).toBe(rotated.public_key);

    // Crash after the server took the new key, before it was recorded here.
    const next = generateWireGuardKeys();
    const file = JSON.parse(readFileSync(devicesFile(owner), "utf8"));
    const key = Object.keys(file.devices)[0] as string;
    file.devices[key] = {
      ...file.devices[key],
      next_private_key: next.privateKey,
      next_public_key: next.publicKey,
    };
    writeFileSync(devicesFile(owner), JSON.stringify(file));
    const api = await t.api("POST", `/v1/devices/${first.device_id}/rotate-key`, {
      token: tokenOf(owner),
      body: { public_key: next.publicKey },
    });
    expect(api.status).toBe(200);
    const conf = await owner.ok(["config", "lan"]);
    expect(privateKeyIn(conf.stdout)).toBe(next.privateKey);
    const [settled] = localDevices(owner);
    expect(settled).toMatchObject({ private_key: next.privateKey, public_key: next.publicKey });
    expect(settled.next_public_key).toBeUndefined();

    // A key the server has but this machine lacks: a clear error, and rotate-key recovers.
    const stranger = generateWireGuardKeys();
    await t.api("POST", `/v1/devices/${first.device_id}/rotate-key`, {
      token: tokenOf(owner),
      body: { public_key: stranger.publicKey },
    });
    const mismatch = await owner.run(["config", "lan"]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toContain("warren devices rotate-key");
    await owner.ok(["devices", "rotate-key"]);
    const [recovered] = localDevices(owner);
    expect(await read()).toBe(recovered.public_key);
    expect(privateKeyIn((await owner.ok(["config", "lan"])).stdout)).toBe(recovered.private_key);

    // Rename, then delete this device: the local key goes too, and config makes a new device.
    const renamed = (await owner.ok(["devices", "rename", "box", "box2", "--json"])).json();
    expect(renamed.name).toBe("box2");
    await owner.ok(["devices", "delete", "box2", "--yes"]);
    expect(localDevices(owner)).toEqual([]);
    const fresh = await owner.ok(["config", "lan", "--name", "box3"]);
    const [made] = localDevices(owner);
    expect(made.device_id).not.toBe(first.device_id);
    expect(privateKeyIn(fresh.stdout)).toBe(made.private_key);
    expect(serverBytes(t)).not.toContain(made.private_key);
  });

  it("config refuses a network you are not in, with the way in", async () => {
    const [owner, other] = await Promise.all([signedIn(t, "own"), signedIn(t, "oth")]);
    const club = uniqueName("pub");
    await owner.ok(["tenants", "create", club, "--access", "open", "--visibility", "public"]);
    const net = (
      await owner.ok([
        "networks",
        "create",
        club,
        "--name",
        "lan",
        "--cidr",
        "10.80.0.0/24",
        "--join-policy",
        "open",
        "--visibility",
        "public",
        "--json",
      ])
    ).json();
    await other.ok(["tenants", "join", club]);
    const r = await other.run(["config", net.id]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("warren networks join lan");
    expect((await other.ok(["networks", "join", "lan", "--json"])).json()).toMatchObject({
      status: "active",
    });
    expect((await other.ok(["config", "lan"])).stdout).toContain("PrivateKey = ");
  });
});
