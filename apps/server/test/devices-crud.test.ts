import { x25519 } from "@noble/curves/ed25519.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "./helpers/backends.js";
import { type HubUser, hubUser } from "./helpers/hub-client.js";
import { startTestServer, type TestServer } from "./helpers/server.js";

const RANDOM_ID = "0190a4c2-1111-7000-8000-000000000000";
const wgKey = () => Buffer.from(x25519.getPublicKey(x25519.utils.randomSecretKey())).toString("base64");

describe.each(backends())("devices: create, read, rename, delete, validation ($name)", (backend) => {
  let t: TestServer;
  let alice: HubUser;
  let bob: HubUser;

  const create = (user: HubUser, body: Record<string, unknown>) =>
    t.api("POST", "/v1/devices", { token: user.token, body });

  beforeAll(async () => {
    t = await startTestServer(backend);
    [alice, bob] = await Promise.all([hubUser(t.api), hubUser(t.api)]);
  }, 60_000);
  afterAll(() => t.close());

  it("registers a device by its public key and lists, reads, renames and deletes it", async () => {
    const key = wgKey();
    const res = await create(alice, { name: "laptop", platform: "linux", public_key: key });
    expect(res.status).toBe(201);
    const device = res.body;
    expect(device).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: "laptop",
      platform: "linux",
      public_key: key,
      last_seen: null,
      created_at: expect.any(String),
      updated_at: device.created_at,
      networks: [],
    });
    expect(Object.keys(device)).not.toContain("private_key");

    const second = (await create(alice, { name: "phone", platform: "android", public_key: wgKey() })).body;
    const list = await t.api("GET", "/v1/devices", { token: alice.token });
    expect(list.status).toBe(200);
    expect(list.body.devices.map((d: any) => d.id)).toEqual([device.id, second.id]);
    expect((await t.api("GET", "/v1/devices", { token: bob.token })).body.devices).toEqual([]);

    expect((await t.api("GET", `/v1/devices/${device.id}`, { token: alice.token })).body).toEqual(device);

    const renamed = await t.api("PATCH", `/v1/devices/${device.id}`, {
      token: alice.token,
      body: { name: "work laptop" },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ id: device.id, name: "work laptop", public_key: key });
    expect(renamed.body.updated_at >= device.updated_at).toBe(true);
    expect((await t.api("GET", `/v1/devices/${device.id}`, { token: alice.token })).body.name).toBe(
      "work laptop",
    );

    const del = await t.api("DELETE", `/v1/devices/${device.id}`, { token: alice.token });
    expect(del.status).toBe(204);
    expect((await t.api("GET", `/v1/devices/${device.id}`, { token: alice.token })).status).toBe(404);
    expect(
      (await t.api("GET", "/v1/devices", { token: alice.token })).body.devices.map((d: any) => d.id),
    ).toEqual([second.id]);
    // The key is free again once its device is gone.
    expect((await create(bob, { name: "reuse", platform: "other", public_key: key })).status).toBe(201);
  });

  it("refuses a body that carries a private key, saying why", async () => {
    const res = await create(alice, {
      name: "laptop",
      platform: "linux",
      public_key: wgKey(),
      private_key: wgKey(),
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_request");
    expect(res.body.error.message).toMatch(/never takes private keys/);
    expect(
      (await t.api("GET", "/v1/devices", { token: alice.token })).body.devices.map((d: any) => d.name),
    ).not.toContain("laptop");
  });

  it("refuses keys that are not a WireGuard public key with invalid_public_key", async () => {
    const k = wgKey();
    for (const bad of [
      "x",
      k.slice(0, 43),
      `${k.slice(0, 43)}==`,
      Buffer.alloc(31, 9).toString("base64"),
      Buffer.alloc(33, 9).toString("base64"),
      Buffer.alloc(32).toString("base64"),
      k
        .replaceAll("/", "_")
        .replaceAll("+", "-")
        .replace(/^[A-Za-z0-9]/, "_"),
    ]) {
      const res = await create(alice, { name: "bad", platform: "linux", public_key: bad });
      expect(res.status, bad).toBe(400);
      expect(res.body.error.code, bad).toBe("invalid_public_key");
    }
  });

  it("validates name and platform", async () => {
    const key = wgKey();
    for (const body of [
      { name: "", platform: "linux", public_key: key },
      { name: "x".repeat(65), platform: "linux", public_key: key },
      { name: "ok", platform: "beos", public_key: key },
      { name: "ok", public_key: key },
      { name: "ok", platform: "linux" },
    ]) {
      const res = await create(alice, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
    }
    for (const platform of ["linux", "macos", "windows", "ios", "android", "other"]) {
      expect((await create(alice, { name: platform, platform, public_key: wgKey() })).status).toBe(201);
    }
    const d = (await create(alice, { name: "n", platform: "ios", public_key: wgKey() })).body;
    const bad = await t.api("PATCH", `/v1/devices/${d.id}`, { token: alice.token, body: { name: "" } });
    expect(bad.status).toBe(400);
  });

  it("answers 409 key_taken for a key another device holds, on create and on rotation", async () => {
    const key = wgKey();
    expect((await create(alice, { name: "a", platform: "linux", public_key: key })).status).toBe(201);
    const dup = await create(bob, { name: "b", platform: "linux", public_key: key });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe("key_taken");
    const mine = (await create(bob, { name: "c", platform: "linux", public_key: wgKey() })).body;
    const rot = await t.api("POST", `/v1/devices/${mine.id}/rotate-key`, {
      token: bob.token,
      body: { public_key: key },
    });
    expect(rot.status).toBe(409);
    expect(rot.body.error.code).toBe("key_taken");
    const badRot = await t.api("POST", `/v1/devices/${mine.id}/rotate-key`, {
      token: bob.token,
      body: { public_key: "nope" },
    });
    expect(badRot.body.error.code).toBe("invalid_public_key");
    const fresh = wgKey();
    const ok = await t.api("POST", `/v1/devices/${mine.id}/rotate-key`, {
      token: bob.token,
      body: { public_key: fresh },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.public_key).toBe(fresh);
    expect((await t.api("GET", `/v1/devices/${mine.id}`, { token: bob.token })).body.public_key).toBe(fresh);
  });

  it("answers another user's device id exactly like a random id", async () => {
    const d = (await create(alice, { name: "private", platform: "macos", public_key: wgKey() })).body;
    for (const id of [d.id, RANDOM_ID]) {
      const calls = [
        t.api("GET", `/v1/devices/${id}`, { token: bob.token }),
        t.api("PATCH", `/v1/devices/${id}`, { token: bob.token, body: { name: "mine now" } }),
        t.api("DELETE", `/v1/devices/${id}`, { token: bob.token }),
        t.api("POST", `/v1/devices/${id}/rotate-key`, { token: bob.token, body: { public_key: wgKey() } }),
      ];
      for (const res of await Promise.all(calls)) {
        expect(res.status).toBe(404);
        expect(res.body.error).toEqual({ code: "not_found", message: "No such device" });
      }
    }
    const still = await t.api("GET", `/v1/devices/${d.id}`, { token: alice.token });
    expect(still.body).toMatchObject({ name: "private", public_key: d.public_key });
    expect((await t.api("GET", "/v1/devices", {})).status).toBe(401);
  });

  it("audits device changes as the user's own events", async () => {
    const d = (await create(alice, { name: "audited", platform: "linux", public_key: wgKey() })).body;
    await t.api("PATCH", `/v1/devices/${d.id}`, { token: alice.token, body: { name: "renamed" } });
    await t.api("POST", `/v1/devices/${d.id}/rotate-key`, {
      token: alice.token,
      body: { public_key: wgKey() },
    });
    await t.api("DELETE", `/v1/devices/${d.id}`, { token: alice.token });
    const rows = await t.server.database.db
      .selectFrom("audit_events")
      .select(["action", "actor_id", "tenant_id"])
      .where("target", "=", d.id)
      .orderBy("id")
      .execute();
    expect(rows).toEqual(
      ["device.create", "device.rename", "device.rotate_key", "device.delete"].map((action) => ({
        action,
        actor_id: alice.id,
        tenant_id: null,
      })),
    );
  });
});
