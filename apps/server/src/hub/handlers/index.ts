import type { ClientFrame, ClientFrameType } from "@warren/protocol";
import type { Bus } from "../../bus/bus.js";
import type { Commands } from "../../services/commands.js";
import type { DirectMessages } from "../../services/direct-messages.js";
import type { Presence } from "../../services/presence.js";
import type { Rooms } from "../../services/rooms.js";
import type { Scopes } from "../../services/scopes.js";
import type { Signaling } from "../../services/signaling.js";
import type { SharedState } from "../../state/index.js";
import type { Connection } from "../connection.js";
import type { DmDelivery } from "../dm-delivery.js";
import { dmHandlers } from "./direct-messages.js";
import { relayHandler } from "./relay.js";
import { roomHandlers } from "./rooms.js";

export interface HandlerDeps {
  bus: Bus;
  state: SharedState;
  rooms: Rooms;
  presence: Presence;
  commands: Commands;
  scopes: Scopes;
  directMessages: DirectMessages;
  dmDelivery: DmDelivery;
  /** the rooms this instance's own sockets are in: the relay rule while Redis is away */
  localRooms: { shareRoom(a: string, b: string): boolean };
  /** who may signal whom */
  signaling: Signaling;
}

/**
 * What a handler gives back: a result to reply with (or undefined for none), or a
 * whole reply frame when the protocol names its own type (pong, command.result).
 */
export type HandlerResult =
  | { result: unknown }
  | { frame: { type: string; [k: string]: unknown } }
  /**
   * The frame's work is done but its answer comes later (a relay waiting for Redis to
   * say who received it): the socket's next frames need not wait for it.
   */
  | { detached: Promise<HandlerResult> }
  | undefined;

/** `text` is the frame as it came, which JSON.parse accepted and `frame` was parsed from. */
export type Handler<T extends ClientFrameType = ClientFrameType> = (
  conn: Connection,
  frame: ClientFrame<T>,
  text: string,
) => HandlerResult | Promise<HandlerResult>;

export type Handlers = { [T in ClientFrameType]: Handler<T> };

/** One table from frame type to handler: the hub's whole vocabulary. */
export function createHandlers(deps: HandlerDeps): Handlers {
  const relay = relayHandler(deps);
  return {
    ping: () => ({ frame: { type: "pong" } }),
    offer: relay,
    answer: relay,
    candidate: relay,
    signal: relay,
    ...roomHandlers(deps),
    "presence.query": async (conn, f) => ({
      result: await deps.presence.query(conn.identity.userId, f.users),
    }),
    command: async (conn, f) => {
      const { userId, username, isAdmin } = conn.identity;
      const result = await deps.commands.run(f.name, f.params, { userId, username, isAdmin });
      return { frame: { type: "command.result", result: result ?? null } };
    },
    ...dmHandlers(deps),
  };
}
