import { spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { askDaemon, controlSocketPath } from "../src/daemon/control.js";
import type { StatusView } from "../src/daemon/view.js";
import { machine, removeTempDirs } from "./helpers/cli.js";
import {
  type Account,
  community,
  type Lab,
  networkIn,
  peerOf,
  startLab,
  tempDir,
  until,
} from "./helpers/daemon.js";

/**
 * The daemon's control socket (daemon.sock in its state directory): owner-only, one
 * daemon per directory, `status` and `down` answered by the daemon itself, and the
 * `warren status` / `warren down` commands talking to it. The memory backend stands
 * in for WireGuard, so no root is needed.
 */
describe("daemon: the control socket", () => {
  let lab: Lab;
  let owner: Account;
  let carol: Account;
  let bob: Account;

  /** Carol's daemon in two networks; bob is a peer in the first. */
  const setup = async () => {
    const { tenant, network: first } = await community(owner);
    const second = await networkIn(owner, tenant.id);
    await carol.client.tenants.join(tenant.id);
    const bobDevice = await bob.device();
    await peerOf(bobDevice, first);
    const d = await lab.daemon(await carol.device(), [first, second]);
    return { first, second, d, bobDevice };
  };

  const mode = (file: string) => statSync(file).mode & 0o777;

  beforeAll(async () => {
    lab = await startLab();
    [owner, carol, bob] = await Promise.all([lab.account("own"), lab.account("carol"), lab.account("bob")]);
  });
  afterAll(async () => {
    await lab?.close();
    removeTempDirs();
  });

  it("is owner-only and answers status with the daemon's view", async () => {
    const { first, second, d, bobDevice } = await setup();
    expect(d.running.control).toBe(controlSocketPath(d.stateDir));
    expect(statSync(d.running.control).isSocket()).toBe(true);
    expect(mode(d.running.control)).toBe(0o600);
    expect(mode(d.stateDir)).toBe(0o700);
    const view = await askDaemon<StatusView>({ command: "status" }, { dir: d.stateDir });
    expect(view?.daemon).toEqual({ running: true, pid: process.pid });
    const byId = new Map(view?.networks.map((n) => [n.network_id, n]));
    expect([...byId.keys()].sort()).toEqual([first.id, second.id].sort());
    const one = byId.get(first.id);
    expect(one?.interface).toBe(d.spec(first.id)?.name);
    expect(one?.address).toBe(d.spec(first.id)?.address);
    expect(one?.status?.peers.map((p) => p.public_key)).toEqual([bobDevice.publicKey]);
    expect(one?.paths).toBeNull();
    expect(byId.get(second.id)?.status?.peers).toEqual([]);
  });

  it("down of one network removes its interface and the daemon keeps running", async () => {
    const { first, second, d } = await setup();
    const answer = await askDaemon<{
      removed: { network_id: string; existed: boolean }[];
      daemon_stopped: boolean;
    }>({ command: "down", network: first.name }, { dir: d.stateDir });
    expect(answer).toMatchObject({
      removed: [{ network_id: first.id, existed: true }],
      daemon_stopped: false,
    });
    expect(d.spec(first.id)).toBeUndefined();
    expect(d.spec(second.id)).toBeDefined();
    const view = await askDaemon<StatusView>({ command: "status" }, { dir: d.stateDir });
    expect(view?.networks.map((n) => n.network_id)).toEqual([second.id]);
    // A peer change in the network taken down brings nothing back.
    await peerOf(await bob.device(), first);
    await peerOf(await bob.device(), second);
    await until("the second network synced", () => (d.spec(second.id)?.peers.length ?? 0) > 0);
    expect(d.spec(first.id)).toBeUndefined();
    await expect(askDaemon({ command: "down", network: "nope" }, { dir: d.stateDir })).rejects.toThrow(
      'network "nope" is not up on this device',
    );
  });

  it("down of every network removes them all, answers, and stops the daemon", async () => {
    const { first, second, d } = await setup();
    const answer = await askDaemon<{ removed: unknown[]; daemon_stopped: boolean }>(
      { command: "down" },
      { dir: d.stateDir },
    );
    expect(answer?.daemon_stopped).toBe(true);
    expect(answer?.removed).toHaveLength(2);
    expect(await d.running.done).toEqual({ error: undefined, removedAll: true });
    expect(d.spec(first.id)).toBeUndefined();
    expect(d.spec(second.id)).toBeUndefined();
    expect(existsSync(d.running.control)).toBe(false);
    expect(existsSync(`${d.stateDir}/daemon.json`)).toBe(false);
    expect(await askDaemon({ command: "status" }, { dir: d.stateDir })).toBeUndefined();
  });

  it("a second daemon on the same state directory refuses to start", async () => {
    const { first, d } = await setup();
    await expect(lab.daemon(await carol.device(), [first], d.stateDir)).rejects.toThrow(
      /warren up is already running here/,
    );
    expect(await askDaemon({ command: "status" }, { dir: d.stateDir })).toBeDefined();
  });

  it("a socket left by a daemon that died is removed, and the new daemon starts", async () => {
    const dir = tempDir();
    const file = controlSocketPath(dir);
    // A process that listens there and is killed: its socket file stays, nobody answers.
    const child = spawn(process.execPath, [
      "-e",
      `require("node:net").createServer().listen(${JSON.stringify(file)}, () => console.log("up"))`,
    ]);
    await new Promise((resolve) => child.stdout.once("data", resolve));
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    expect(statSync(file).isSocket()).toBe(true);
    const { network } = await community(owner);
    await carol.client.tenants.join(network.tenant_id);
    const d = await lab.daemon(await carol.device(), [network], dir);
    expect((await askDaemon<StatusView>({ command: "status" }, { dir }))?.networks).toHaveLength(1);
    await d.stop();
  });

  it("warren status and warren down talk to the running daemon; with none, status reads daemon.json", async () => {
    const { first, second, d } = await setup();
    const cli = machine(lab.t.url);
    const env = { env: { WARREN_CONFIG_DIR: d.stateDir } };
    const status = (await cli.ok(["status", "--json"], env)).json<StatusView>();
    expect(status.daemon.running).toBe(true);
    expect(status.networks.map((n) => n.network_id).sort()).toEqual([first.id, second.id].sort());
    const name = d.spec(first.id)?.name;
    const one = await cli.ok(["down", first.name], env);
    expect(one.stdout.trim()).toBe(`${first.name}: removed ${name}`);
    expect(d.spec(first.id)).toBeUndefined();
    await d.stop();
    // No daemon: daemon.json says what is up; the interfaces do not exist on this machine.
    const stopped = (await cli.ok(["status", "--json"], env)).json<StatusView>();
    expect(stopped.daemon).toEqual({ running: false, pid: null });
    expect(stopped.networks.map((n) => [n.network_id, n.status])).toEqual([[second.id, null]]);
  });
});
