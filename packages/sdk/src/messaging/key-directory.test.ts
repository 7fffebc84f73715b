import { describe, expect, it } from "vitest";
import type { Http } from "../transport/http.js";
import { createKeyDirectory } from "./key-directory.js";
import { createMemoryKeyStore } from "./key-store.js";
import type { KeyChangeEvent } from "./types.js";

const ME = "me";
const BOB = "bob";

/** A fake server: the keys each user has now, and how often they were asked for. */
function server() {
  const keys = new Map<
    string,
    { id: string; kind: "ed25519" | "x25519"; public_key: string; device: string | null }[]
  >();
  const calls: string[] = [];
  const http = (async (_method: string, url: string) => {
    calls.push(url);
    const user = url === "/v1/auth/keys" ? ME : (url.split("/")[3] as string);
    return { keys: (keys.get(user) ?? []).map((k) => ({ ...k, label: null, created_at: "" })) };
  }) as Http;
  return { keys, calls, http };
}

const key = (id: string, device: string, kind: "ed25519" | "x25519" = "x25519") => ({
  id,
  kind,
  public_key: `${id}-public`,
  device,
});

function directory(s: ReturnType<typeof server>, store = createMemoryKeyStore(), maxAgeMs = 60_000) {
  const changes: KeyChangeEvent[] = [];
  const dir = createKeyDirectory({
    http: s.http,
    store,
    me: () => ME,
    onChange: (e) => changes.push(e),
    maxAgeMs,
  });
  return { dir, changes, store };
}

describe("key directory", () => {
  it("trusts the first set, caches it, and ignores keys of no device", async () => {
    const s = server();
    s.keys.set(BOB, [key("b1", "phone"), { ...key("login", "x", "ed25519"), device: null }]);
    const { dir, changes } = directory(s);
    expect((await dir.sendable(BOB)).map((k) => k.id)).toEqual(["b1"]);
    await dir.sendable(BOB);
    expect(s.calls).toEqual([`/v1/users/${BOB}/keys`]);
    expect(changes).toEqual([]);
  });

  it("a device first seen half registered completes without a key change; another device still is one", async () => {
    const s = server();
    s.keys.set(BOB, [key("sig", "phone", "ed25519")]);
    const { dir, changes } = directory(s);
    await dir.keysOf(BOB, true);
    s.keys.set(BOB, [key("sig", "phone", "ed25519"), key("enc", "phone")]);
    expect((await dir.sendable(BOB, true)).map((k) => k.id)).toEqual(["sig", "enc"]);
    expect(changes).toEqual([]);
    s.keys.set(BOB, [key("sig", "phone", "ed25519"), key("enc", "phone"), key("enc2", "laptop")]);
    await expect(dir.sendable(BOB, true)).rejects.toMatchObject({ code: "untrusted_keys" });
    expect(changes.map((c) => c.added.map((k) => k.id))).toEqual([["enc2"]]);
  });

  it("refuses an added or replaced key until trust, and says so once", async () => {
    const s = server();
    s.keys.set(BOB, [key("b1", "phone")]);
    const { dir, changes } = directory(s);
    await dir.sendable(BOB);
    s.keys.set(BOB, [key("b2", "phone")]);
    await expect(dir.sendable(BOB, true)).rejects.toMatchObject({ code: "untrusted_keys" });
    await expect(dir.sendable(BOB, true)).rejects.toMatchObject({ code: "untrusted_keys" });
    expect(changes).toEqual([
      { user: BOB, added: [key("b2", "phone")], removed: [key("b1", "phone")], needsTrust: true },
    ]);
    await dir.trust(BOB);
    expect((await dir.sendable(BOB)).map((k) => k.id)).toEqual(["b2"]);
  });

  it("accepts a removal without asking, and reports it", async () => {
    const s = server();
    s.keys.set(BOB, [key("b1", "phone"), key("b2", "desk")]);
    const { dir, changes } = directory(s);
    await dir.sendable(BOB);
    s.keys.set(BOB, [key("b1", "phone")]);
    expect((await dir.sendable(BOB, true)).map((k) => k.id)).toEqual(["b1"]);
    expect(changes).toEqual([{ user: BOB, added: [], removed: [key("b2", "desk")], needsTrust: false }]);
  });

  it("remembers trusted sets in the store: a restarted client still sees the change", async () => {
    const s = server();
    s.keys.set(BOB, [key("b1", "phone")]);
    const first = directory(s);
    await first.dir.sendable(BOB);
    s.keys.set(BOB, [key("b1", "phone"), key("b9", "laptop")]);
    const second = directory(s, createMemoryKeyStore(first.store.entries()));
    await expect(second.dir.sendable(BOB)).rejects.toMatchObject({ code: "untrusted_keys" });
    expect(second.changes[0]?.added).toEqual([key("b9", "laptop")]);
  });

  it("refetches after maxAgeMs, and once more for an unknown signing key", async () => {
    const s = server();
    s.keys.set(BOB, [key("b1", "phone", "ed25519")]);
    const { dir } = directory(s, createMemoryKeyStore(), 0);
    await dir.sendable(BOB);
    await dir.sendable(BOB);
    expect(s.calls).toHaveLength(2);
    const cached = directory(s);
    expect((await cached.dir.signingKey(BOB, "b1"))?.id).toBe("b1");
    expect(await cached.dir.signingKey(BOB, "nope")).toBeUndefined();
    expect(s.calls).toHaveLength(4);
  });

  it("takes this device's own new keys as trusted", async () => {
    const s = server();
    s.keys.set(ME, [key("m1", "laptop")]);
    const { dir, changes } = directory(s);
    await dir.sendable(ME);
    s.keys.set(ME, [key("m2", "laptop")]);
    await dir.ownKeysChanged([key("m2", "laptop")], [key("m1", "laptop")]);
    expect((await dir.sendable(ME, true)).map((k) => k.id)).toEqual(["m2"]);
    expect(changes).toEqual([]);
  });
});
