/**
 * Connectivity check packets ("pings" and "pongs"), sent from the WireGuard port to a
 * peer's candidates. They cannot be mistaken for WireGuard (whose first byte is 1-4)
 * or STUN (whose first two bits are zero): they start with "WRN". Each carries the
 * receiver's check key, learned only through the hub from a device that shares a
 * network with it, so a stray host answering on a candidate address is not taken for
 * the peer.
 *
 *   [W R N 1][kind: 1 ping | 2 pong][txid: 8][n][key: n][m][sender device id: m]
 */

const MAGIC = Buffer.from("WRN1");
export const PING = 1;
export const PONG = 2;

export interface Check {
  kind: number;
  txid: string;
  key: string;
  device: string;
}

export function isCheck(msg: Buffer): boolean {
  return msg.length >= 15 && msg[0] === 0x57 && msg.subarray(0, 4).equals(MAGIC);
}

export function encodeCheck(c: Check): Buffer {
  const key = Buffer.from(c.key);
  const device = Buffer.from(c.device);
  return Buffer.concat([
    MAGIC,
    Buffer.from([c.kind]),
    Buffer.from(c.txid, "hex"),
    Buffer.from([key.length]),
    key,
    Buffer.from([device.length]),
    device,
  ]);
}

export function decodeCheck(msg: Buffer): Check | undefined {
  if (!isCheck(msg)) return undefined;
  const kind = msg[4] as number;
  const txid = msg.subarray(5, 13).toString("hex");
  const n = msg[13] as number;
  if (msg.length < 15 + n) return undefined;
  const key = msg.subarray(14, 14 + n).toString();
  const m = msg[14 + n] as number;
  if (msg.length !== 15 + n + m) return undefined;
  const device = msg.subarray(15 + n).toString();
  return { kind, txid, key, device };
}
