/**
 * Fan-out between server instances (DESIGN.md "Data flow"). Services publish events on
 * topics; every instance's hub subscribes to the topics its own sockets need and
 * delivers to them. In-memory for one process (memory-bus.ts), Redis pub/sub for many.
 */
export type BusEvent =
  /** a frame, already serialised, for the sockets on the topic (all but the `except` socket); type is for metrics */
  | { kind: "frame"; frame: string; type?: string; except?: string }
  /** the user's sockets join a room topic (the user joined the room from some device) */
  | { kind: "room.subscribe"; room: string; user: string }
  /** the user's sockets leave a room topic (left, kicked, room deleted) */
  | { kind: "room.unsubscribe"; room: string; user: string }
  /**
   * published on a user's topic: their sockets join these topics (a community or
   * network they joined: tenant:<id>, network:<id>)
   */
  | { kind: "topics.add"; topics: string[] }
  /** published on a user's topic: their sockets leave these topics (left, kicked, banned) */
  | { kind: "topics.remove"; topics: string[] }
  /** close the sockets of one sign-in session (logout, revocation) */
  | { kind: "session.ended"; session: string };

export type BusHandler = (topic: string, event: BusEvent) => void;

export interface PublishOptions {
  /**
   * Signaling: worth nothing later. When the bus is down, such an event is not kept for
   * later, and the publish rejects with BusUnavailableError unless a local socket got it.
   * Other events (chat, direct messages, kicks, membership) are kept while the bus is
   * down and published when it is back, so nothing acknowledged is lost.
   */
  ephemeral?: boolean;
}

/** The bus cannot reach the other instances (Redis is down). */
export class BusUnavailableError extends Error {
  constructor(cause?: unknown) {
    super("The bus to the other instances is unavailable", { cause });
    this.name = "BusUnavailableError";
  }
}

export interface Bus {
  /**
   * Publishes an event; resolves to how many subscribers (instances) received it, so a
   * relay can tell "nobody is listening" from "delivered". Memory answers synchronously.
   */
  publish(topic: string, event: BusEvent, options?: PublishOptions): number | Promise<number>;
  /** Adds a handler for a topic (once: adding the same handler again does nothing). */
  subscribe(topic: string, handler: BusHandler): void;
  /** Removes a handler from a topic. */
  unsubscribe(topic: string, handler: BusHandler): void;
  /**
   * Resolves once every subscription asked for so far is in force (Redis confirmed it),
   * or the bus is down: a socket told "welcome" or "joined" must get what follows.
   */
  settled(): Promise<void>;
  /**
   * Calls `listener` each time the bus comes back after an outage, with when the outage
   * began (ms since the epoch): sockets may have missed events since then.
   */
  onRestored(listener: (downSinceMs: number) => void): void;
  /** True while the bus can carry events (always, in memory). */
  healthy(): boolean;
  close(): Promise<void>;
}
