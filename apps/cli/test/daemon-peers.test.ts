import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateWireGuardKeys, wireGuardPublicKey } from "../src/wg/keys.js";
import {
  type Account,
  community,
  type Device,
  type Lab,
  peerOf,
  startLab,
  type TestDaemon,
  until,
} from "./helpers/daemon.js";

/**
 * The daemon's answer to hub frames that change who is in a network and where:
 * peer_added, peer_updated (endpoint, address, key), network_updated, peer_removed of
 * another device, and member_joined for a join request it waits on. Real server, real
 * hub socket; the WireGuard backend is the memory one, whose applied spec is checked.
 */
describe("daemon: peers joining, moving and changing keys", () => {
  let lab: Lab;
  let owner: Account;
  let carol: Account;
  let bob: Account;
  let carolDevice: Device;
  let bobDevice: Device;
  let net: Awaited<ReturnType<typeof community>>["network"];
  let d: TestDaemon;
  let bobPeer: { id: string; address: string };

  const peerKeys = () => (d.spec(net.id)?.peers ?? []).map((p) => p.publicKey);
  const bobInSpec = () => d.spec(net.id)?.peers.find((p) => p.publicKey === bobDevice.publicKey);

  beforeAll(async () => {
    lab = await startLab();
    [owner, carol, bob] = await Promise.all([lab.account("own"), lab.account("carol"), lab.account("bob")]);
    ({ network: net } = await community(owner));
    await carol.client.tenants.join(net.tenant_id);
    carolDevice = await carol.device();
    bobDevice = await bob.device();
    d = await lab.daemon(carolDevice, [net]);
  });
  afterAll(async () => {
    await lab?.close();
  });

  it("comes up: joins the network, adds its peer and applies its own address and key", async () => {
    const spec = d.spec(net.id);
    expect(spec).toBeDefined();
    expect(wireGuardPublicKey(spec?.privateKey ?? "")).toBe(carolDevice.publicKey);
    expect(spec?.cidr).toBe(net.cidr);
    const { peers } = await owner.client.networks.peers(net.id);
    const mine = peers.find((p) => p.device_id === carolDevice.id);
    expect(spec?.address).toBe(`${mine?.address}/24`);
    expect(spec?.listenPort).toBe(51820);
    expect(spec?.peers).toEqual([]);
    // The daemon reported where it listens: the endpoint given, with its port.
    expect(mine?.endpoint).toBe("192.0.2.7:51820");
  });

  it("peer_added: another device joins and appears with its key and address", async () => {
    bobPeer = await peerOf(bobDevice, net);
    const peer = await until("bob in the spec", bobInSpec);
    expect(peer.allowedIps).toEqual([`${bobPeer.address}/32`]);
    expect(peer.endpoint ?? null).toBeNull();
  });

  it("peer_updated: the peer's endpoint changes", async () => {
    await bob.client.peers.setEndpoint(bobPeer.id, "198.51.100.4:51999");
    await until("bob's endpoint", () => bobInSpec()?.endpoint === "198.51.100.4:51999");
  });

  it("peer_updated: the peer moves to another address", async () => {
    const moved = await owner.client.peers.setAddress(bobPeer.id, { address: "10.77.1.200" });
    expect(moved.address).toBe("10.77.1.200");
    await until("bob's new address", () => bobInSpec()?.allowedIps.join() === "10.77.1.200/32");
  });

  it("peer_updated: this device moves to another address", async () => {
    const mine = (await owner.client.networks.peers(net.id)).peers.find(
      (p) => p.device_id === carolDevice.id,
    );
    await owner.client.peers.setAddress(mine?.id ?? "", { address: "10.77.1.150" });
    await until("carol's new address", () => d.spec(net.id)?.address === "10.77.1.150/24");
    expect(d.running.daemon.networks()[0]?.address).toBe("10.77.1.150/24");
  });

  it("key change: the peer rotates its key; the spec holds the new key only", async () => {
    const next = generateWireGuardKeys();
    await bob.client.devices.rotateKey(bobDevice.id, next.publicKey);
    await until("the new key", () => peerKeys().includes(next.publicKey));
    expect(peerKeys()).not.toContain(bobDevice.publicKey);
    const peer = d.spec(net.id)?.peers.find((p) => p.publicKey === next.publicKey);
    expect(peer?.allowedIps).toEqual(["10.77.1.200/32"]);
    bobDevice = { ...bobDevice, publicKey: next.publicKey, privateKey: next.privateKey };
  });

  it("network_updated: a renamed network is renamed in the daemon's records", async () => {
    // The range of a network with peers cannot change (the server refuses); its name can.
    const refused = await owner.client.networks.update(net.id, { cidr: "10.78.0.0/24" }).catch((e) => e);
    expect(refused.code).toBe("network_in_use");
    await owner.client.networks.update(net.id, { name: "renamed" });
    await until("the new name", () => d.running.daemon.networks()[0]?.network_name === "renamed");
    expect(d.spec(net.id)).toBeDefined();
  });

  it("peer_removed of another device: it leaves the spec, the interface stays", async () => {
    const removals = d.backend.history.filter((c) => c.op === "remove").length;
    await bob.client.peers.remove(bobPeer.id);
    await until("bob gone", () => peerKeys().length === 0);
    expect(d.spec(net.id)).toBeDefined();
    expect(d.backend.history.filter((c) => c.op === "remove").length).toBe(removals);
  });

  it("member_joined: a join request the daemon waits on is approved, and the network comes up", async () => {
    const { network: gated } = await community(owner, { join_policy: "approval" });
    await carol.client.tenants.join(gated.tenant_id);
    const waiting = await lab.daemon(await carol.device(), [gated]);
    expect(waiting.spec(gated.id)).toBeUndefined();
    expect(waiting.running.daemon.waitingFor().map((t) => t.id)).toEqual([gated.id]);
    await owner.client.networks.approve(gated.id, carol.id);
    const spec = await until("the approved network up", () => waiting.spec(gated.id));
    expect(spec.cidr).toBe(gated.cidr);
    expect(waiting.running.daemon.waitingFor()).toEqual([]);
    await waiting.stop();
  });
});
