import type { ClientFrame, RelayType } from "@warren/protocol";
import { topics } from "../../bus/topics.js";
import { AppError } from "../../errors.js";
import { isPromise } from "../../maybe.js";
import type { Connection } from "../connection.js";
import type { HandlerDeps, HandlerResult } from "./index.js";
import { payloadText } from "./payload-text.js";

const DELIVERED: HandlerResult = { result: { delivered: true } };
const EPHEMERAL = { ephemeral: true } as const;
const MAX_CACHED_TOPICS = 10_000;

/**
 * Signaling relay: offer, answer, candidate and signal reach every connected
 * device of the user named in "to" (or the one in "to_device"), stamped with the
 * sender. The payload is passed on as it came, its own text: the server never looks inside.
 * Who may signal whom is the signaling service's rule; a stranger, an unknown user and an
 * offline user all answer peer_unavailable.
 *
 * Synchronous while the stores answer at once (one instance): this is the hot path.
 */
export function relayHandler({ bus, signaling, localRooms }: HandlerDeps) {
  // User id → its topic. A new topic string per frame costs a copy and a hash on every
  // lookup; the id from the frame has its hash already (the relay rule looked it up), so
  // a burst to one user finds the same, already hashed, topic. Bounded: emptied when full.
  const userTopics = new Map<string, string>();
  const userTopic = (id: string): string => {
    let topic = userTopics.get(id);
    if (topic === undefined) {
      if (userTopics.size >= MAX_CACHED_TOPICS) userTopics.clear();
      topic = topics.user(id);
      userTopics.set(id, topic);
    }
    return topic;
  };

  const answer = (f: ClientFrame<RelayType>, receivers: number): HandlerResult => {
    // The bus counts the instances holding a socket on the topic: none means offline.
    if (receivers === 0) throw new AppError("peer_unavailable");
    return f.id === undefined ? undefined : DELIVERED;
  };

  /**
   * The Redis bus answers every frame of one batch (a sender's burst to one peer) with the
   * same promise: its frames share one detached answer each for "with id" and "without id".
   */
  type Later = { detached: Promise<HandlerResult> };
  let lastCount: Promise<number> | undefined;
  let lastAnswers: [Later | undefined, Later | undefined] = [undefined, undefined];
  const later = (f: ClientFrame<RelayType>, receivers: Promise<number>): Later => {
    if (receivers !== lastCount) {
      lastCount = receivers;
      lastAnswers = [undefined, undefined];
    }
    const i = f.id === undefined ? 0 : 1;
    const known = lastAnswers[i];
    if (known) return known;
    const answered = { detached: receivers.then((n) => answer(f, n)) };
    lastAnswers[i] = answered;
    return answered;
  };

  // A socket's sender stamp, serialised once: JSON.stringify costs as much for two ids as
  // for a whole small frame, and a socket sends many frames.
  const stamps = new WeakMap<Connection, string>();
  const stampOf = (conn: Connection): string => {
    let stamp = stamps.get(conn);
    if (stamp === undefined) {
      const { userId, device } = conn.identity;
      stamp = `"from":${JSON.stringify(userId)},"from_device":${JSON.stringify(device)}`;
      stamps.set(conn, stamp);
    }
    return stamp;
  };

  const send = (conn: Connection, f: ClientFrame<RelayType>, text: string) => {
    // The payload's own text, as the sender wrote it: serialising the parsed value again
    // would walk all of it a second time. The type is one of four names (the schema).
    const payload = payloadText(text);
    const from = conn.identity;
    const frame =
      payload === undefined
        ? JSON.stringify({ type: f.type, from: from.userId, from_device: from.device, payload: f.payload })
        : `{"type":"${f.type}",${stampOf(conn)},"payload":${payload}}`;
    const topic = f.to_device ? topics.device(f.to, f.to_device) : userTopic(f.to);
    // Ephemeral: an offer is worth nothing later, so while Redis is away one for another
    // instance fails now (service_unavailable) instead of arriving late or never.
    const receivers = bus.publish(topic, { kind: "frame", frame, type: f.type, except: conn.id }, EPHEMERAL);
    // Across instances the count comes back from Redis: the answer waits for it, the
    // sender's next frames do not (their PUBLISHes still leave in order).
    if (isPromise(receivers)) return later(f, receivers);
    return answer(f, receivers);
  };

  return (conn: Connection, f: ClientFrame<RelayType>, text: string) => {
    // The signaling service decides (services/signaling.ts); the hub only delivers.
    const allowed = signaling.mayRelay(conn.identity.userId, f.to, localRooms);
    if (allowed === true) return send(conn, f, text);
    return allowed.then(() => send(conn, f, text));
  };
}
