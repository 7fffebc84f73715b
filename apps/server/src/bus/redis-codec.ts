import type { BusEvent } from "./bus.js";

/**
 * How an event travels a Redis channel: a header line, then the body. A frame's body is
 * the serialised frame itself, so the hot path never JSON-encodes a JSON string again:
 *   F<origin>\t<type>\t<except>\n<frame>
 *   J<origin>\n<event as JSON>
 * Instance ids, frame types and connection ids hold no tab or newline.
 */
export function encodeEvent(origin: string, event: BusEvent): string {
  if (event.kind === "frame") {
    return `F${origin}\t${event.type ?? ""}\t${event.except ?? ""}\n${event.frame}`;
  }
  return `J${origin}\n${JSON.stringify(event)}`;
}

/** The event and the instance that sent it, or undefined for a message not ours. */
export function decodeEvent(message: string): { origin: string; event: BusEvent } | undefined {
  const nl = message.indexOf("\n");
  if (nl < 1) return undefined;
  const header = message.slice(1, nl);
  const body = message.slice(nl + 1);
  if (message[0] === "F") {
    const [origin = "", type = "", except = ""] = header.split("\t");
    const event: BusEvent = { kind: "frame", frame: body };
    if (type) event.type = type;
    if (except) event.except = except;
    return { origin, event };
  }
  if (message[0] !== "J") return undefined;
  try {
    return { origin: header, event: JSON.parse(body) as BusEvent };
  } catch {
    return undefined;
  }
}
