import type { ClientFrame, RelayType } from "@warren/protocol";
import { topics } from "../../bus/topics.js";
import { AppError } from "../../errors.js";
import { isPromise } from "../../maybe.js";
import { mayContact } from "../../policy/policy.js";
import type { Connection } from "../connection.js";
import type { HandlerDeps, HandlerResult } from "./index.js";

const DELIVERED: HandlerResult = { result: { delivered: true } };

/**
 * Signaling relay (seed 002): offer, answer, candidate and signal reach every connected
 * device of the user named in "to" (or the one in "to_device"), stamped with the
 * sender. The payload is passed on as it came: the server never looks inside.
 * A stranger, an unknown user and an offline user all answer peer_unavailable.
 *
 * Synchronous while the stores answer at once (one instance): this is the hot path.
 */
export function relayHandler({ bus, state, scopes }: HandlerDeps) {
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
    const receivers = bus.publish(topic, { kind: "frame", frame, type: f.type, except: conn.id });
    return isPromise(receivers) ? receivers.then((n) => answer(f, n)) : answer(f, receivers);
  };

  /** Without a shared room, a shared community or network (issue 4) allows it too. */
  const allowed = (conn: Connection, f: ClientFrame<RelayType>, shareRoom: boolean) => {
    if (mayContact({ sameUser: false, shareRoom })) return send(conn, f);
    return scopes.shared(conn.identity.userId, f.to).then((facts) => {
      if (!mayContact({ sameUser: false, shareRoom, ...facts })) throw new AppError("peer_unavailable");
      return send(conn, f);
    });
  };

  return (conn: Connection, f: ClientFrame<RelayType>) => {
    const from = conn.identity.userId;
    if (f.to === from && mayContact({ sameUser: true, shareRoom: false })) return send(conn, f);
    const shared = state.rooms.shareRoom(from, f.to);
    return isPromise(shared) ? shared.then((ok) => allowed(conn, f, ok)) : allowed(conn, f, shared);
  };
}
