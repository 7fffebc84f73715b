import { randomBytes } from "node:crypto";

/**
 * The client half of STUN Binding (RFC 8489) as the daemon uses it: requests leave from
 * the same UDP socket that carries WireGuard, so the mapping learned is the one peers
 * must use. The request carries a SOFTWARE attribute: the server answers only requests
 * at least as large as its answer.
 */

const MAGIC_COOKIE = 0x2112a442;
const SOFTWARE = Buffer.from("warren daemon, endpoint discovery"); // 33 bytes → padded to 36

export function bindingRequest(): { id: Buffer; packet: Buffer } {
  const id = randomBytes(12);
  const padded = Math.ceil(SOFTWARE.length / 4) * 4;
  const packet = Buffer.alloc(20 + 4 + padded);
  packet.writeUInt16BE(0x0001, 0);
  packet.writeUInt16BE(4 + padded, 2);
  packet.writeUInt32BE(MAGIC_COOKIE, 4);
  id.copy(packet, 8);
  packet.writeUInt16BE(0x8022, 20);
  packet.writeUInt16BE(SOFTWARE.length, 22);
  SOFTWARE.copy(packet, 24);
  return { id, packet };
}

/** True for anything that looks like a STUN message (two zero top bits, the cookie). */
export function isStun(msg: Buffer): boolean {
  return msg.length >= 20 && ((msg[0] as number) & 0xc0) === 0 && msg.readUInt32BE(4) === MAGIC_COOKIE;
}

/** The XOR-MAPPED-ADDRESS of a Binding success response, with its transaction id. */
export function parseBindingResponse(msg: Buffer): { id: string; address: string; port: number } | undefined {
  if (!isStun(msg) || msg.readUInt16BE(0) !== 0x0101) return undefined;
  const end = Math.min(msg.length, 20 + msg.readUInt16BE(2));
  let at = 20;
  while (at + 4 <= end) {
    const type = msg.readUInt16BE(at);
    const length = msg.readUInt16BE(at + 2);
    const value = at + 4;
    if (type === 0x0020 && length >= 8 && msg[value + 1] === 0x01) {
      const port = msg.readUInt16BE(value + 2) ^ (MAGIC_COOKIE >>> 16);
      const a = msg.readUInt32BE(value + 4) ^ MAGIC_COOKIE;
      const address = [a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff].join(".");
      return { id: msg.subarray(8, 20).toString("hex"), address, port };
    }
    at = value + Math.ceil(length / 4) * 4;
  }
  return undefined;
}
