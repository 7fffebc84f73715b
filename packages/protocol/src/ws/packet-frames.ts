/**
 * The packet relay's binary WebSocket frames (docs/protocol.md "Packet relay"). Text
 * frames stay JSON; a binary frame is one of these, its first byte the kind:
 *
 *   SEND     client → server  [0x01][n][device id: n ASCII bytes][packet]
 *   RECV     server → client  [0x02][n][device id: n ASCII bytes][packet]
 *   REFUSED  server → client  [0x03][n][device id: n ASCII bytes][reason]
 *   HELLO    client → server  [0x04]
 *   INFO     server → client  [0x05][UTF-8 JSON: {"instance": string, "url": string | null, "stun": number[]}]
 *
 * SEND names the receiving device, RECV the sending one. The packet is opaque to the
 * server: WireGuard ciphertext.
 */
export const PACKET_KIND = { send: 1, recv: 2, refused: 3, hello: 4, info: 5 } as const;

/** Why a SEND was not passed on. */
export const REFUSAL = { not_allowed: 1, not_here: 2, rate_limited: 3, bad_frame: 4 } as const;
export type RefusalName = keyof typeof REFUSAL;

export interface PacketFrame {
  kind: number;
  device: string;
  /** the packet (SEND, RECV) or the one-byte reason (REFUSED) */
  body: Uint8Array;
}

const DEVICE = /^[A-Za-z0-9_.:-]{1,64}$/;

/** A SEND, RECV or REFUSED frame. */
export function encodePacketFrame(kind: number, device: string, body: Uint8Array): Uint8Array {
  const n = device.length;
  const out = new Uint8Array(2 + n + body.length);
  out[0] = kind;
  out[1] = n;
  for (let i = 0; i < n; i++) out[2 + i] = device.charCodeAt(i) & 0x7f;
  out.set(body, 2 + n);
  return out;
}

/** A SEND, RECV or REFUSED frame, or undefined when malformed. The body is a view, not a copy. */
export function decodePacketFrame(data: Uint8Array): PacketFrame | undefined {
  if (data.length < 3) return undefined;
  const kind = data[0] as number;
  const n = data[1] as number;
  if (data.length < 2 + n) return undefined;
  let device = "";
  for (let i = 0; i < n; i++) device += String.fromCharCode(data[2 + i] as number);
  if (!DEVICE.test(device)) return undefined;
  return { kind, device, body: data.subarray(2 + n) };
}
