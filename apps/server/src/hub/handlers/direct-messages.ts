import type { HandlerDeps, Handlers } from "./index.js";

/** Direct-message frames: the service decides, the socket's identity is the sender. */
export function dmHandlers({ directMessages, dmDelivery }: HandlerDeps) {
  const handlers: Pick<Handlers, "dm.send" | "dm.ack" | "dm.read" | "dm.fetch"> = {
    "dm.send": async (conn, f) => {
      const { type: _type, id: _id, ...body } = f;
      // The sending socket gets this reply; the sender's other devices get their copies.
      return { result: await directMessages.send(conn.identity.userId, body, conn.id) };
    },
    "dm.ack": async (conn, f) => {
      const count = await directMessages.acknowledge(conn.identity.userId, conn.identity.device, f.ids);
      await dmDelivery.acknowledged(conn, f.ids);
      return f.id === undefined ? undefined : { result: { count } };
    },
    "dm.read": async (conn, f) => {
      const count = await directMessages.read(conn.identity.userId, conn.identity.device, f.ids);
      await dmDelivery.acknowledged(conn, f.ids);
      return f.id === undefined ? undefined : { result: { count } };
    },
    "dm.fetch": async (conn) => ({ result: await dmDelivery.fetch(conn) }),
  };
  return handlers;
}
