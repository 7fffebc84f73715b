/** Accounts with message keys, and direct messages sealed and signed ahead of the load. */
import { randomUUID } from "node:crypto";
import { utf8 } from "../../packages/sdk/src/crypto/encoding.js";
import { DM_VERSION, type SealedCopy, signEnvelope } from "../../packages/sdk/src/crypto/envelope.js";
import { seal } from "../../packages/sdk/src/crypto/hpke.js";
import { generateEd25519, generateX25519 } from "../../packages/sdk/src/index.js";
import { messageAad } from "../../packages/sdk/src/messaging/receive.js";
import { HOST } from "../relay/servers.js";

export interface DmAccount {
  id: string;
  token: string;
  device: string;
  /** Ed25519 seed of the device's signing key, and that key's id on the server */
  signing: { secret: Uint8Array; id: string };
  /** the device's X25519 key id and public key */
  receiving: { id: string; publicKey: string };
}

async function call<T>(
  port: number,
  method: string,
  path: string,
  body: unknown,
  token?: string,
): Promise<T> {
  const res = await fetch(`http://${HOST}:${port}${path}`, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const reply = (await res.json()) as T & { error?: { code: string } };
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(reply)}`);
  return reply;
}

/**
 * A key-only account with one message device: an Ed25519 signing key and an X25519 key,
 * both registered for `device` right after sign-up (a fresh session may add keys).
 */
export async function dmAccount(port: number, username: string): Promise<DmAccount> {
  const login = generateEd25519();
  const reg = await call<{ user: { id: string }; tokens: { access_token: string } }>(
    port,
    "POST",
    "/v1/auth/register",
    { username, public_key: login.publicKey },
  );
  const token = reg.tokens.access_token;
  const device = `bench-${randomUUID()}`;
  const signing = generateEd25519();
  const receiving = generateX25519();
  const s = await call<{ id: string }>(
    port,
    "POST",
    "/v1/auth/keys",
    { kind: "ed25519", public_key: signing.publicKey, device },
    token,
  );
  const r = await call<{ id: string }>(
    port,
    "POST",
    "/v1/auth/keys",
    { kind: "x25519", public_key: receiving.publicKey, device },
    token,
  );
  return {
    id: reg.user.id,
    token,
    device,
    signing: { secret: signing.secretKey, id: s.id },
    receiving: { id: r.id, publicKey: receiving.publicKey },
  };
}

/**
 * The body of one dm.send from `from` to `to`: one copy for `to`'s device, sealed and
 * signed now (sent_at is now: the server takes it within 5 minutes of its clock, so a
 * run uses its messages within that time).
 */
export async function sealedMessage(from: DmAccount, to: DmAccount, text: string) {
  const clientMsgId = randomUUID().replaceAll("-", "");
  const sentAt = new Date().toISOString();
  const plaintext = utf8(JSON.stringify({ text, sent_at: sentAt }));
  const copy: SealedCopy = {
    device_key_id: to.receiving.id,
    ...(await seal(to.receiving.publicKey, plaintext, DM_VERSION, messageAad(from.id, to.id, clientMsgId))),
  };
  const fields = { sender: from.id, recipient: to.id, sent_at: sentAt, client_msg_id: clientMsgId };
  const { signature } = await signEnvelope(from.signing.secret, fields, [copy]);
  return {
    type: "dm.send",
    to: to.id,
    client_msg_id: clientMsgId,
    sent_at: sentAt,
    copies: [copy],
    signature,
    signing_key_id: from.signing.id,
  };
}
