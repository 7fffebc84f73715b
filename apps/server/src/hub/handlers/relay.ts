import type { ClientFrame, RelayType } from "@warren/protocol";
import { topics } from "../../bus/topics.js";
import { AppError } from "../../errors.js";
import { mayContact } from "../../policy/policy.js";
import type { Connection } from "../connection.js";
import type { HandlerDeps, HandlerResult } from "./index.js";

const DELIVERED: HandlerResult = { result: { delivered: true } };

/**
 * Signaling relay (seed 002): offer, answer, candidate and signal reach every connected
 * device of the user named in "to" (or the one in "to_device"), stamped with the
 * sender. The payload is passed on as it came: the server never looks inside.
 * A stranger, an unknown user and an offline user all answer peer_unavailable.
 */
export function relayHandler({ bus, state }: HandlerDeps) {
  return async (conn: Connection, f: ClientFrame<RelayType>): Promise<HandlerResult> => {
    const from = conn.identity;
    const sameUser = f.to === from.userId;
    if (!mayContact({ sameUser, shareRoom: !sameUser && (await state.rooms.shareRoom(from.userId, f.to)) })) {
      throw new AppError("peer_unavailable");
    }
    const frame = JSON.stringify({
      type: f.type,
      from: from.userId,
      from_device: from.device,
      payload: f.payload,
    });
    const topic = f.to_device ? topics.device(f.to, f.to_device) : topics.user(f.to);
    // The bus counts the instances holding a socket on the topic: none means offline.
    const receivers = await bus.publish(topic, { kind: "frame", frame, type: f.type, except: conn.id });
    if (receivers === 0) throw new AppError("peer_unavailable");
    return f.id === undefined ? undefined : DELIVERED;
  };
}
