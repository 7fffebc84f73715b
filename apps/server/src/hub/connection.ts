import type { WebSocket } from "ws";

/** Where a socket is in its device's pending direct messages. */
export interface DmPaging {
  /** the device's message key the pages were for */
  key: string;
  /** the last message id sent in a page */
  cursor: string | undefined;
  /** ids of the last page not yet acknowledged */
  outstanding: Set<string>;
  /** more pending copies wait after the cursor */
  more: boolean;
}

/** What the upgrade established about a socket before it opened. */
export interface Identity {
  userId: string;
  username: string;
  device: string;
  /** the sign-in session (sid) behind the access token */
  session: string;
  signinKey: string | null;
  isAdmin: boolean;
}

/**
 * One socket on this instance. Kept small and flat: the hub holds tens of thousands of
 * these, and memory per idle connection is a target (issue 3).
 */
export class Connection {
  /** heartbeats missed in a row */
  missed = 0;
  /** set once the client sent one valid frame */
  valid = false;
  /** local topics this socket is on (user, device, rooms) */
  readonly topics: string[] = [];
  /** frames received in each of the last ten seconds, made on first rate-limit refusal */
  abuse: Uint32Array | undefined;
  abuseSecond = 0;
  /** a frame of this socket is being handled; later ones wait in `backlog`, in order */
  busy = false;
  backlog: [data: unknown, isBinary: boolean][] | undefined;
  /** store-and-forward of direct messages to this socket's device, once it began (dm-delivery.ts) */
  dm: DmPaging | undefined;
  /** frames to this socket wait for the end of the tick, to leave in one write (outbox.ts) */
  corked = false;

  constructor(
    readonly id: string,
    readonly identity: Identity,
    readonly ws: WebSocket,
    readonly openedAt: number,
  ) {}
}
