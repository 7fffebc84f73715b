/**
 * The slice of STUN (RFC 8489) the server speaks: a Binding request in, a Binding
 * success response with XOR-MAPPED-ADDRESS out. Nothing else is parsed or answered.
 */

export const MAGIC_COOKIE = 0x2112a442;
const BINDING_REQUEST = 0x0001;
const BINDING_SUCCESS = 0x0101;
const XOR_MAPPED_ADDRESS = 0x0020;
const HEADER = 20;

/** The transaction id of a well-formed Binding request (RFC 8489 §5, §6.3.1), else undefined. */
export function bindingRequestId(msg: Buffer): Buffer | undefined {
  if (msg.length < HEADER || msg.length > 548) return undefined;
  // The two top bits of every STUN message are zero; the length counts the attributes
  // after the header and is a multiple of 4.
  if ((msg[0] as number) & 0xc0) return undefined;
  if (msg.readUInt16BE(0) !== BINDING_REQUEST) return undefined;
  const length = msg.readUInt16BE(2);
  if (length % 4 !== 0 || HEADER + length !== msg.length) return undefined;
  if (msg.readUInt32BE(4) !== MAGIC_COOKIE) return undefined;
  return msg.subarray(8, 20);
}

/** The size of the answer for an address family: header + one XOR-MAPPED-ADDRESS. */
export function responseSize(ipv6: boolean): number {
  return HEADER + 4 + (ipv6 ? 20 : 8);
}

/** A Binding success response naming the address and port the request came from (RFC 8489 §14.2). */
export function bindingResponse(transactionId: Buffer, address: string, port: number): Buffer {
  const v4 = !address.includes(":");
  const valueLength = v4 ? 8 : 20;
  const out = Buffer.alloc(HEADER + 4 + valueLength);
  out.writeUInt16BE(BINDING_SUCCESS, 0);
  out.writeUInt16BE(4 + valueLength, 2);
  out.writeUInt32BE(MAGIC_COOKIE, 4);
  transactionId.copy(out, 8);
  out.writeUInt16BE(XOR_MAPPED_ADDRESS, 20);
  out.writeUInt16BE(valueLength, 22);
  out.writeUInt8(0, 24);
  out.writeUInt8(v4 ? 0x01 : 0x02, 25);
  out.writeUInt16BE(port ^ (MAGIC_COOKIE >>> 16), 26);
  const bytes = v4 ? ipv4Bytes(address) : ipv6Bytes(address);
  // The address is XORed with the cookie, and for IPv6 with the transaction id after it.
  const key = Buffer.concat([out.subarray(4, 8), transactionId]);
  for (let i = 0; i < bytes.length; i++) out[28 + i] = (bytes[i] as number) ^ (key[i] as number);
  return out;
}

function ipv4Bytes(address: string): number[] {
  return address.split(".").map((p) => Number(p) & 0xff);
}

function ipv6Bytes(address: string): number[] {
  const [head = "", tail = ""] = address.split("::");
  const parse = (s: string) => (s ? s.split(":") : []);
  const h = parse(head);
  const t = parse(tail);
  const groups = address.includes("::") ? [...h, ...Array(8 - h.length - t.length).fill("0"), ...t] : h;
  const out: number[] = [];
  for (const g of groups) {
    const n = Number.parseInt(g, 16) || 0;
    out.push(n >> 8, n & 0xff);
  }
  return out;
}
