import type { ClientFrame, RelayType } from "@warren/protocol";
import { BusUnavailableError } from "../../bus/bus.js";
import { topics } from "../../bus/topics.js";
import { AppError } from "../../errors.js";
import { isPromise } from "../../maybe.js";
import { mayContact } from "../../policy/policy.js";
import type { Connection } from "../connection.js";
import type { HandlerDeps, HandlerResult } from "./index.js";

const DELIVERED: HandlerResult = { result: { delivered: true } };
const EPHEMERAL = { ephemeral: true } as const;

/**
 * Signaling relay: offer, answer, candidate and signal reach every connected
 * device of the user named in "to" (or the one in "to_device"), stamped with the
 * sender. The payload is passed on as it came: the server never looks inside.
 * A stranger, an unknown user and an offline user all answer peer_unavailable.
 *
 * Synchronous while the stores answer at once (one instance): this is the hot path.
 */
export function relayHandler({ bus, state, scopes, localRooms, contacts }: HandlerDeps) {
  const answer = (f: ClientFrame<RelayType>, receivers: number): HandlerResult => {
    // The bus counts the instances holding a socket on the topic: none means offline.
    if (receivers === 0) throw new AppError("peer_unavailable");
    return f.id === undefined ? undefined : DELIVERED;
  };

  const send = (conn: Connection, f: ClientFrame<RelayType>) => {
    const from = conn.identity;
    const frame = JSON.stringify({
      type: f.type,
      from: from.userId,
      from_device: from.device,
      payload: f.payload,
    });
    const topic = f.to_device ? topics.device(f.to, f.to_device) : topics.user(f.to);
    // Ephemeral: an offer is worth nothing later, so while Redis is away one for another
    // instance fails now (service_unavailable) instead of arriving late or never.
    const receivers = bus.publish(topic, { kind: "frame", frame, type: f.type, except: conn.id }, EPHEMERAL);
    // Across instances the count comes back from Redis: the answer waits for it, the
    // sender's next frames do not (their PUBLISHes still leave in order).
    if (isPromise(receivers)) return { detached: receivers.then((n) => answer(f, n)) };
    return answer(f, receivers);
  };

  /**
   * Without a shared room, a shared community or network allows it too. When
   * the room fact could not be had (Redis away), "no" is not known, so it is not said.
   */
  const allowed = (conn: Connection, f: ClientFrame<RelayType>, shareRoom: boolean, unsure = false) => {
    if (mayContact({ sameUser: false, shareRoom })) return send(conn, f);
    return scopes.shared(conn.identity.userId, f.to).then((facts) => {
      if (mayContact({ sameUser: false, shareRoom, ...facts })) {
        contacts.remember(conn.identity.userId, f.to);
        return send(conn, f);
      }
      throw unsure ? new BusUnavailableError() : new AppError("peer_unavailable");
    });
  };

  return (conn: Connection, f: ClientFrame<RelayType>) => {
    const from = conn.identity.userId;
    if (f.to === from && mayContact({ sameUser: true, shareRoom: false })) return send(conn, f);
    if (contacts.allowed(from, f.to)) return send(conn, f);
    const shared = state.rooms.shareRoom(from, f.to);
    if (!isPromise(shared)) return allowed(conn, f, shared);
    // Redis away: rooms this instance's own sockets are in still count (it knows them
    // without Redis).
    return shared.then(
      (ok) => {
        if (ok) contacts.remember(from, f.to);
        return allowed(conn, f, ok);
      },
      () => allowed(conn, f, localRooms.shareRoom(from, f.to), true),
    );
  };
}
