import { createHash, createPublicKey, randomBytes, randomUUID, verify } from "node:crypto";
import { expect } from "vitest";
import { fixtures } from "./chat-fixtures.js";
import { type HubUser, hubUser } from "./helpers/hub-client.js";
import { ed25519Pair, x25519Public } from "./helpers/keys.js";
import type { Api } from "./helpers/server.js";

/**
 * People, devices and envelopes for the direct-message suites, made through
 * the HTTP API. Signatures are real Ed25519 (node:crypto) over the contract's canonical
 * bytes, computed here independently of the server; "ciphertext" is random bytes: the
 * server must treat it as opaque (real HPKE is the SDK's, tested there).
 */
export interface Device {
  name: string;
  signer: ReturnType<typeof ed25519Pair>;
  /** the Ed25519 key's id */
  signingKeyId: string;
  /** the X25519 key's id: device_key_id */
  keyId: string;
  publicKey: string;
}

export interface Person extends HubUser {
  devices: Device[];
}

export interface Copy {
  device_key_id: string;
  enc: string;
  ciphertext: string;
}

export type Signing = "valid" | "none" | "bad";

/** base64(SHA-256(`${device_key_id}\n${enc}\n${ciphertext}`)), sorted by device_key_id. */
export function hashesOf(copies: Copy[]): [string, string][] {
  return copies
    .map((c): [string, string] => [
      c.device_key_id,
      createHash("sha256").update(`${c.device_key_id}\n${c.enc}\n${c.ciphertext}`).digest("base64"),
    ])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

export function signedBytes(
  sender: string,
  recipient: string,
  sentAt: string,
  clientMsgId: string,
  hashes: [string, string][],
): Buffer {
  return Buffer.from(JSON.stringify(["warren-dm-v1", sender, recipient, sentAt, clientMsgId, hashes]));
}

/** A copy sealed for nobody in particular: random bytes, base64. */
export const opaqueCopy = (keyId: string, marker = ""): Copy => ({
  device_key_id: keyId,
  enc: randomBytes(32).toString("base64"),
  ciphertext: Buffer.concat([Buffer.from(marker), randomBytes(48)]).toString("base64"),
});

export function dmKit(api: Api) {
  const f = fixtures(api);
  const kit = {
    f,
    async addDevice(p: HubUser & { devices?: Device[] }, name: string): Promise<Device> {
      const signer = ed25519Pair();
      const publicKey = x25519Public();
      const ed = f.ok(
        await api("POST", "/v1/auth/keys", {
          token: p.token,
          body: { kind: "ed25519", public_key: signer.publicKey, device: name },
        }),
        201,
      );
      const x = f.ok(
        await api("POST", "/v1/auth/keys", {
          token: p.token,
          body: { kind: "x25519", public_key: publicKey, device: name, label: name },
        }),
        201,
      );
      const device = { name, signer, signingKeyId: ed.id, keyId: x.id, publicKey: x.public_key };
      p.devices?.push(device);
      return device;
    },

    /** A user with message keys on each named device. */
    async person(deviceNames: string[] = ["d1"]): Promise<Person> {
      const p: Person = { ...(await hubUser(api)), devices: [] };
      for (const name of deviceNames) await kit.addDevice(p, name);
      return p;
    },

    /** The first one makes a community, the others join it: now they may write to each other. */
    async friends(...people: HubUser[]): Promise<string> {
      const [owner, ...rest] = people as [HubUser, ...HubUser[]];
      const tenant = await f.community(owner);
      for (const p of rest) await f.join(tenant, p);
      return tenant;
    },

    /** One copy per device of `to`, and per device of `from` other than `fromDevice`. */
    copies(from: Person, fromDevice: Device | undefined, to: Person, marker = ""): Copy[] {
      const keys = [
        ...to.devices.map((d) => d.keyId),
        ...from.devices.filter((d) => d !== fromDevice).map((d) => d.keyId),
      ];
      return [...new Set(keys)].map((k) => opaqueCopy(k, marker));
    },

    /** A dm.send body (without type/id), signed by `device` unless told otherwise. */
    envelope(
      from: Person,
      device: Device | undefined,
      to: Person | { id: string },
      options: {
        copies?: Copy[];
        clientMsgId?: string;
        sentAt?: string;
        signing?: Signing;
        signingKeyId?: string;
        marker?: string;
      } = {},
    ) {
      const copies =
        options.copies ??
        ("devices" in to ? kit.copies(from, device, to, options.marker) : [opaqueCopy(randomUUID())]);
      const clientMsgId = options.clientMsgId ?? randomUUID();
      const sentAt = options.sentAt ?? new Date().toISOString();
      const signing = options.signing ?? "valid";
      const body: Record<string, unknown> = {
        to: to.id,
        client_msg_id: clientMsgId,
        sent_at: sentAt,
        copies,
      };
      if (signing !== "none") {
        const signer = device?.signer ?? ed25519Pair();
        const bytes = signedBytes(from.id, to.id, sentAt, clientMsgId, hashesOf(copies));
        // "bad": signed over other bytes, so it is a well-formed signature that does not verify.
        body.signature = signer.sign(signing === "bad" ? Buffer.concat([bytes, Buffer.from("x")]) : bytes);
        body.signing_key_id = options.signingKeyId ?? device?.signingKeyId;
      }
      return body as {
        to: string;
        client_msg_id: string;
        sent_at: string;
        copies: Copy[];
        signature?: string;
        signing_key_id?: string;
      };
    },

    post: (from: HubUser, body: unknown) => api("POST", "/v1/messages/direct", { token: from.token, body }),
  };
  return kit;
}

/** Checks a delivered dm frame the way a receiving device would: its copy's hash is listed and the signature verifies. */
export function expectVerifiable(frame: any, signer: Device["signer"]): void {
  const [mine] = hashesOf([frame.copy]);
  expect(frame.hashes).toContainEqual(mine);
  const bytes = signedBytes(frame.from, frame.to, frame.sent_at, frame.client_msg_id, frame.hashes);
  const key = createPublicKey({
    key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(signer.publicKey, "base64").toString("base64url") },
    format: "jwk",
  });
  expect(verify(null, bytes, key, Buffer.from(frame.signature, "base64"))).toBe(true);
}
